"""One workspace's Telegram bot: aiogram's Dispatcher fed by long polling (default) or by a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiogram import Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from reconbot.bot.platform import ChatBot
from reconbot.bot.telegram.router import ALLOWED_UPDATES, build_router
from reconbot.bot.telegram.transport import TelegramTransport
from reconbot.core.errors import SetupError
from reconbot.core.services.chat.setup import ChatConnection, set_bot_name
from reconbot.handlers.context import Chat

log = logging.getLogger(__name__)


class TelegramBot(ChatBot):
    """Receives updates for ``connection`` (mode ``polling`` or ``webhook``) and answers through ``transport``.

    ``api_base`` overrides ``reconbot.core.settings.telegram_api_url()``; ``polling_timeout`` is getUpdates'
    long-poll wait.
    Raises SetupError when the connection has no bot token, or is a webhook without a secret.
    """

    def __init__(self, connection: ChatConnection, chat: Chat, *, api_base: str | None = None,
                 polling_timeout: int = 10) -> None:  # fmt: skip
        super().__init__(connection, chat)
        token = connection.credentials.get("bot_token", "")
        if not token:
            raise SetupError("Telegram: the connection has no bot_token")
        self.secret = connection.credentials.get("webhook_secret", "")
        if connection.mode == "webhook" and not self.secret:
            raise SetupError("Telegram: webhook mode needs a webhook_secret (save the connection again)")
        self._transport = TelegramTransport(token, base=api_base)
        self.polling_timeout = polling_timeout
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(build_router(chat, redact=token))
        self._polling: asyncio.Task[None] | None = None
        self._webhook: SimpleRequestHandler | None = None

    def __repr__(self) -> str:
        return f"TelegramBot({self.connection!r})"

    @property
    def transport(self) -> TelegramTransport:
        return self._transport

    def web_handler(self) -> Callable[[web.Request], Awaitable[web.StreamResponse]] | None:
        """In webhook mode, return the handler of updates posted to ``web_path`` (without the secret header:
        401); otherwise None."""
        if self.connection.mode != "webhook":
            return None
        if self._webhook is None:
            self._webhook = SimpleRequestHandler(self.dispatcher, self._transport.bot, secret_token=self.secret)
        return self._webhook.handle

    async def start(self) -> None:
        """Record the bot's username (deep links need it), then register the webhook or start polling in the
        background. Raises aiogram's TelegramAPIError when Telegram refuses (a revoked token: Unauthorized)."""
        bot = self._transport.bot
        me = await bot.get_me()
        set_bot_name(self.chat.engine, self.connection.id, me.username or "")
        if self.connection.mode == "webhook":
            url = self.chat.public_url.rstrip("/") + self.web_path
            await bot.set_webhook(url=url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES)
            return
        await bot.delete_webhook()  # Telegram refuses getUpdates while a webhook is set
        polling = self.dispatcher.start_polling(
            bot, handle_signals=False, close_bot_session=False, polling_timeout=self.polling_timeout,
            allowed_updates=ALLOWED_UPDATES,
        )  # fmt: skip
        self._polling = asyncio.create_task(polling, name=f"telegram-polling-{self.connection.id}")
        self._polling.add_done_callback(_log_end)

    async def stop(self) -> None:
        """Stop polling (if running) and close the HTTP session."""
        if self._polling is not None:
            try:
                await self.dispatcher.stop_polling()
            except RuntimeError:  # polling had not begun yet
                self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
            self._polling = None
        await self._transport.close()


def _log_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Telegram polling stopped: %s", type(task.exception()).__name__)
