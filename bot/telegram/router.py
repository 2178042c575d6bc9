"""What the Telegram bot does with updates: commands, button presses and answers to "Find invoice…" prompts,
each handed to ``handlers`` (looked up through their modules at call time) and the reply sent back."""

from __future__ import annotations

import logging
import traceback
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, ErrorEvent, ForceReply, User
from aiogram.types import Chat as TelegramChat
from aiogram.types import Message as TelegramMessage

from reconbot.bot.telegram.render import Action, html, keyboard
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.services.workspaces import language_of
from reconbot.handlers import actions, commands, texts
from reconbot.handlers.context import Chat, ChatUser, Place
from reconbot.handlers.messages import Reply

log = logging.getLogger(__name__)

COMMANDS = ("status", "unmatched", "paid", "balance", "help", "here")
ALLOWED_UPDATES = ["message", "callback_query"]
ALERT_ABOVE = 64  # a longer answer to a press (a refusal with its reason) is an alert the user dismisses
ASK_NUMBER = "Reply with the invoice number"
# The bot's own sentences, in English until reconbot.handlers.texts has these keys (then in the workspace's language).
ENGLISH = {
    "telegram.sent_privately": "I sent you the answer in a private chat.",
    "telegram.open_private": "I can only show this in a private chat: open https://t.me/{bot}, press Start, then ask "
    "again.",
    "error.logged": "Something went wrong; the error is logged.",
}


def words(chat: Chat, key: str, **values: str) -> str:
    """Return the bot's sentence ``key`` in the workspace's language, or in English."""
    try:
        return texts.text(language_of(chat.engine, chat.workspace_id), key, **values)
    except Exception:  # a missing text or a failing database must not stop the answer
        return ENGLISH[key].format(**values)


def chat_user(person: User) -> ChatUser:
    """Return the Telegram account as the handlers know it."""
    return ChatUser(Platform.TELEGRAM, str(person.id), person.full_name)


def place(chat: TelegramChat) -> Place:
    """Return the chat as the handlers know it: ``private`` for a one-to-one chat with the bot."""
    return Place(Platform.TELEGRAM, str(chat.id), private=chat.type == "private")


async def answer(bot: Bot, chat: Chat, where: TelegramChat, person: User, reply: Reply) -> None:
    """Send ``reply.message`` to ``where``, or, when it is private and ``where`` is shared, to the person's private
    chat with a pointer in ``where``. Private content never goes to a shared chat, even when that fails."""
    if reply.message is None:
        return
    text, markup = html(reply.message), keyboard(reply.message)
    if not reply.private or where.type == "private":
        await bot.send_message(where.id, text, reply_markup=markup)
        return
    try:
        await bot.send_message(person.id, text, reply_markup=markup)
    except TelegramAPIError:  # mostly 403: the person never started a chat with the bot
        me = await bot.me()
        await bot.send_message(
            where.id, escape(words(chat, "telegram.open_private", bot=me.username or ""), quote=False)
        )
    else:
        await bot.send_message(where.id, escape(words(chat, "telegram.sent_privately"), quote=False))


async def ask_number(bot: Bot, chat: Chat, where: TelegramChat, person: User, reply: Reply) -> None:
    """Send a prompt the person answers by replying (ForceReply) and remember which action it asks for.

    The prompt says ``reply.message``, else the toast (the handlers' words, in the workspace's language)."""
    text = html(reply.message) if reply.message is not None else escape(reply.toast or ASK_NUMBER, quote=False)
    if where.type != "private":  # ForceReply's ``selective`` targets the people mentioned in the text
        text = f'<a href="tg://user?id={person.id}">{escape(person.full_name, quote=False)}</a>\n{text}'
    markup = ForceReply(selective=True, input_field_placeholder="E-2026-12")
    prompt = await bot.send_message(where.id, text, reply_markup=markup)
    actions.remember_prompt(chat, reply.ask_number, f"{where.id}:{prompt.message_id}")


def build_router(chat: Chat, redact: str) -> Router:
    """Return the router for one workspace's bot; ``redact`` (the bot token) is blanked out of logged errors."""
    router = Router(name=f"reconbot-{chat.workspace_id}")

    @router.message(CommandStart())
    async def on_start(message: TelegramMessage, command: CommandObject, bot: Bot) -> None:
        if message.from_user is None:
            return
        reply = await commands.start(chat, chat_user(message.from_user), place(message.chat), command.args or "")
        await answer(bot, chat, message.chat, message.from_user, reply)

    @router.message(Command(*COMMANDS))
    async def on_command(message: TelegramMessage, command: CommandObject, bot: Bot) -> None:
        if message.from_user is None:
            return
        text = f"{command.command} {command.args or ''}".strip()
        reply = await commands.run_command(chat, chat_user(message.from_user), place(message.chat), text)
        await answer(bot, chat, message.chat, message.from_user, reply)

    @router.callback_query(Action.filter())
    async def on_press(query: CallbackQuery, callback_data: Action, bot: Bot) -> None:
        reply = await actions.press(chat, chat_user(query.from_user), callback_data.id)
        toast = reply.toast[:200]
        await query.answer(text=toast or None, show_alert=len(toast) > ALERT_ABOVE)
        where = query.message.chat if query.message is not None else None
        if where is None:  # no message to answer under: the press came from an inline message
            return
        if reply.ask_number:
            await ask_number(bot, chat, where, query.from_user, reply)
        else:
            await answer(bot, chat, where, query.from_user, reply)

    @router.message(F.reply_to_message, F.text)
    async def on_reply(message: TelegramMessage, bot: Bot) -> None:
        asked = message.reply_to_message
        if asked is None or message.from_user is None or message.text is None:
            return
        if asked.from_user is None or asked.from_user.id != bot.id:
            return  # only replies to the bot's own prompts can be answers
        action_id = actions.prompt_action(chat, f"{message.chat.id}:{asked.message_id}")
        if action_id is None:
            return
        reply = await actions.answer_number(chat, chat_user(message.from_user), action_id, message.text.strip())
        await answer(bot, chat, message.chat, message.from_user, reply)

    @router.errors()
    async def on_error(event: ErrorEvent, bot: Bot) -> None:
        failed = escape(words(chat, "error.logged"), quote=False)
        trace = "".join(traceback.format_exception(event.exception)).replace(redact, "<token>")
        log.error("Telegram update %s failed:\n%s", event.update.update_id, trace)
        try:
            if event.update.callback_query is not None:
                await event.update.callback_query.answer(text=failed[:200], show_alert=True)
            elif event.update.message is not None:
                await bot.send_message(event.update.message.chat.id, failed)
        except TelegramAPIError as error:  # the answer is a courtesy; its failure is only logged
            log.warning("could not tell the user about the failure: %s", str(error).replace(redact, "<token>"))

    return router
