"""The real aiogram Dispatcher long-polling the fake Bot API: commands, presses, private answers, prompts."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Engine

from reconbot.bot.telegram import TelegramBot
from reconbot.bot.telegram.render import Action
from reconbot.bot.telegram.router import words
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.services.chat.setup import connections
from reconbot.handlers.context import Chat, ChatUser, Place
from reconbot.handlers.messages import Message, Reply
from tests.fakes.telegram import BOT_USERNAME, TOKEN, FakeTelegram, callback_update, message_update
from tests.support.telegram import Handled, Handlers

GROUP = -1001234567890
OWNER = 1001  # linked to the owner by tests/chat/conftest.py
BALANCE = Message(title="Balance", fields=(("OTP", "1 250 000 Ft"),))


async def test_start_clears_the_webhook_and_records_the_bot_name(
    polling_bot: TelegramBot, fake: FakeTelegram, engine: Engine, workspace_id: int
) -> None:
    assert fake.calls_to("deleteWebhook")
    await fake.wait_for("getUpdates")
    (connection,) = connections(engine, workspace_id)
    assert connection.bot_name == BOT_USERNAME


async def test_a_command_is_run_for_its_chat_and_answered_there(
    polling_bot: TelegramBot, fake: FakeTelegram, handlers: Handlers
) -> None:
    handlers.replies["run_command"] = Reply(Message(title="Status", lines=("Last sync: 09:00",)))
    fake.push_update(message_update(GROUP, OWNER, "/paid E-2026-12"))
    (sent,) = await fake.wait_for("sendMessage")
    assert sent["chat_id"] == str(GROUP)
    assert sent["text"] == "<b>Status</b>\nLast sync: 09:00"
    (call,) = handlers.calls
    assert call == ("run_command", (ChatUser(Platform.TELEGRAM, "1001", "Anna"), Place(Platform.TELEGRAM,
                                    str(GROUP), private=False), "paid E-2026-12"))  # fmt: skip


async def test_start_with_a_code_links_the_account(
    polling_bot: TelegramBot, fake: FakeTelegram, handlers: Handlers
) -> None:
    handlers.replies["start"] = Reply(Message(title="Hello Anna"))
    fake.push_update(message_update(OWNER, OWNER, "/start c0de_42"))
    (sent,) = await fake.wait_for("sendMessage")
    assert sent["chat_id"] == str(OWNER)
    assert handlers.calls[0][0] == "start"
    assert handlers.calls[0][1][1:] == (Place(Platform.TELEGRAM, str(OWNER), private=True), "c0de_42")


async def test_a_press_is_answered_with_its_toast(
    polling_bot: TelegramBot, fake: FakeTelegram, handlers: Handlers
) -> None:
    handlers.replies["press"] = Reply(toast="Paired with E-2026-12")
    fake.push_update(callback_update(_bot_message(GROUP), OWNER, Action(id="act_1").pack(), query_id="q7"))
    (answered,) = await fake.wait_for("answerCallbackQuery")
    assert answered == {"callback_query_id": "q7", "text": "Paired with E-2026-12", "show_alert": False}
    assert handlers.calls == [("press", (ChatUser(Platform.TELEGRAM, "1001", "Anna"), "act_1"))]


async def test_private_answers_go_to_the_private_chat_with_a_pointer_in_the_group(
    polling_bot: TelegramBot, fake: FakeTelegram, handlers: Handlers, chat: Chat
) -> None:
    handlers.replies["run_command"] = Reply(BALANCE, private=True)
    fake.push_update(message_update(GROUP, OWNER, "/balance"))
    private, pointer = await fake.wait_for("sendMessage", 2)
    assert private["chat_id"] == str(OWNER)
    assert "1 250 000 Ft" in private["text"]
    assert pointer == {**pointer, "chat_id": str(GROUP), "text": words(chat, "telegram.sent_privately")}


async def test_private_answers_never_fall_back_to_the_group(
    polling_bot: TelegramBot, fake: FakeTelegram, handlers: Handlers, handled: Handled
) -> None:
    fake.fail_chats[str(OWNER)] = (403, "Forbidden: bot can't initiate conversation with a user")
    handlers.replies["run_command"] = Reply(BALANCE, private=True)
    await handled.wait(fake.push_update(message_update(GROUP, OWNER, "/balance")))
    _, pointer = fake.calls_to("sendMessage")
    assert pointer["chat_id"] == str(GROUP)
    assert f"https://t.me/{BOT_USERNAME}" in pointer["text"]
    assert not [key for key in fake.messages if key[0] == str(GROUP) and "1 250 000" in fake.html[key]]


async def test_find_invoice_prompts_for_a_reply_and_pairs_the_number(
    polling_bot: TelegramBot, fake: FakeTelegram, handlers: Handlers, handled: Handled
) -> None:
    handlers.replies["press"] = Reply(toast="Reply with the invoice number", ask_number="find_9")
    handlers.replies["answer_number"] = Reply(Message(title="Paired with E-2026-12"))
    await handled.wait(fake.push_update(callback_update(_bot_message(GROUP), OWNER, Action(id="find_9").pack())))
    (prompt,) = fake.calls_to("sendMessage")
    assert prompt["reply_markup"]["force_reply"] is True
    assert "Reply with the invoice number" in prompt["text"]
    assert handlers.prompts == {f"{GROUP}:1": "find_9"}

    reply = message_update(GROUP, OWNER, " E-2026-12 ", reply_to=fake.messages[(str(GROUP), 1)])
    await handled.wait(fake.push_update(reply))
    _, answer = fake.calls_to("sendMessage")
    assert answer["text"] == "<b>Paired with E-2026-12</b>"
    assert handlers.calls[-1] == ("answer_number", (ChatUser(Platform.TELEGRAM, "1001", "Anna"), "find_9", "E-2026-12"))


async def test_replies_to_other_messages_are_not_answers(
    polling_bot: TelegramBot, fake: FakeTelegram, handlers: Handlers
) -> None:
    someone = message_update(GROUP, 1002, "hello")["message"]
    update = message_update(GROUP, OWNER, "E-1", reply_to=someone) | {"update_id": 90}
    # Fed straight to the dispatcher, which returns once the update is fully handled.
    await polling_bot.dispatcher.feed_raw_update(polling_bot.transport.bot, update)
    assert handlers.calls == []
    assert not fake.calls_to("sendMessage")


async def test_a_failing_handler_is_logged_without_the_token_and_the_user_told(
    polling_bot: TelegramBot, fake: FakeTelegram, handlers: Handlers, chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    handlers.raises = RuntimeError(f"boom near {TOKEN}")
    fake.push_update(message_update(GROUP, OWNER, "/status"))
    (sent,) = await fake.wait_for("sendMessage")
    assert sent["text"] == words(chat, "error.logged")
    logged = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("boom near" in record.getMessage() for record in logged)
    assert not any(TOKEN in record.getMessage() for record in caplog.records)


def _bot_message(chat_id: int) -> dict[str, object]:
    return {"message_id": 5, "date": 0, "chat": {"id": chat_id, "type": "supergroup", "title": "Kert"},
            "from": {"id": 4242, "is_bot": True, "first_name": "Reconbot"}, "text": "Unmatched: 127 000 Ft",
            "reply_markup": {"inline_keyboard": [[{"text": "Find", "callback_data": "rb:find_9"}]]}}  # fmt: skip
