"""Sending and editing messages through the Telegram Bot API (aiogram's ``Bot``), with errors mapped to
``DeliveryError``: what waits, what retries and what stops for good."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    AiogramError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)

from reconbot.bot.telegram.render import html, keyboard
from reconbot.bot.transport import ChatTransport, DeliveryError
from reconbot.core.settings import telegram_api_url
from reconbot.handlers.messages import Message

NOT_MODIFIED = "message is not modified"
GROUP_PACE = 3.0  # Telegram allows about 20 messages a minute in one group
CHAT_PACE = 1.0  # and about one a second in one private chat


class ChatMigrated(DeliveryError):
    """The group became a supergroup: ``new_address`` is where its messages go from now on (permanent)."""

    def __init__(self, message: str, new_address: str) -> None:
        super().__init__(message, permanent=True)
        self.new_address = new_address


def chat_id(address: str) -> int | str:
    """Return ``address`` as the Bot API's ``chat_id``: a number, or ``@channelname`` as it is."""
    try:
        return int(address)
    except ValueError:
        return address


class TelegramTransport(ChatTransport):
    """One bot's messages. ``bot`` is the aiogram ``Bot`` (the dispatcher reuses it); the token stays inside it
    and never appears in this object's repr or in the errors it raises."""

    platform = "telegram"

    def __init__(self, token: str, *, base: str | None = None) -> None:
        """Talk to the Bot API at ``base`` (default ``reconbot.core.settings.telegram_api_url()``).

        Raises aiogram's TokenValidationError (which does not echo the token) for a malformed token.
        """
        session = AiohttpSession(api=TelegramAPIServer.from_base(base or telegram_api_url()))
        default = DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True)
        self.bot = Bot(token, session=session, default=default)

    def __repr__(self) -> str:
        return f"TelegramTransport(bot {self.bot.id})"

    async def send(self, address: str, message: Message) -> str:
        """Post ``message`` to chat ``address``; return the new message's id. Raises DeliveryError."""
        try:
            sent = await self.bot.send_message(chat_id(address), html(message), reply_markup=keyboard(message))
        except AiogramError as error:
            raise self.delivery_error(error, address) from None  # the cause may hold the request URL (token)
        return str(sent.message_id)

    async def edit(self, address: str, ref: str, message: Message) -> None:
        """Replace message ``ref`` in chat ``address`` (its buttons too: none given removes them).

        Unchanged content ("message is not modified") counts as done. Raises DeliveryError.
        """
        if not ref.isdigit():
            raise DeliveryError(f"Telegram message id {ref!r} in chat {address} is not a number", permanent=True)
        try:
            await self.bot.edit_message_text(
                text=html(message), chat_id=chat_id(address), message_id=int(ref), reply_markup=keyboard(message)
            )
        except TelegramBadRequest as error:
            if NOT_MODIFIED not in error.message:
                raise self.delivery_error(error, address) from None
        except AiogramError as error:
            raise self.delivery_error(error, address) from None

    def group_pace(self, address: str) -> float:
        """Return 3 s for a group (negative chat id: 20 messages a minute), else 1 s."""
        return GROUP_PACE if address.startswith("-") else CHAT_PACE

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.bot.session.close()

    def delivery_error(self, error: AiogramError, address: str) -> DeliveryError:
        """Return ``error`` as a DeliveryError: wait on flood control, stop on problems retrying cannot fix
        (bot removed or blocked, chat or message gone, token revoked, chat migrated), retry the rest."""
        reason = self._redact(error.message if isinstance(error, TelegramAPIError) else str(error))
        where = f"Telegram chat {address}"
        if isinstance(error, TelegramRetryAfter):
            wait = error.retry_after
            return DeliveryError(f"{where}: flood control, retry in {wait} s", retry_after=wait)
        if isinstance(error, TelegramMigrateToChat):
            new = str(error.migrate_to_chat_id)
            return ChatMigrated(f"{where} became a supergroup with id {new}; send to {new} instead", new)
        if isinstance(error, TelegramUnauthorizedError):
            return DeliveryError("Telegram rejected the bot token (revoked or wrong)", permanent=True)
        if isinstance(error, TelegramForbiddenError | TelegramBadRequest | TelegramNotFound):
            # 403: kicked or blocked; 400: chat not found, message to edit not found, malformed: retrying cannot help
            return DeliveryError(f"{where}: {reason}", permanent=True)
        return DeliveryError(f"{where}: {reason}")  # network, 5xx, undecodable answers: try again later

    def _redact(self, text: str) -> str:
        return text.replace(self.bot.token, "<token>")
