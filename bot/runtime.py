"""Everything chat in one process: each configured bot, and the delivery worker that sends through them."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web
from sqlalchemy import Engine

from bot.delivery import DeliveryWorker
from bot.platform import ChatBot
from bot.transport import ChatTransport
from core.persistence.chat_tables import Platform
from core.services.bank_providers import BankFeeds
from core.services.chat_setup import ChatConnection, connections
from core.services.invoice_sources import InvoiceSources
from handlers.context import Chat

log = logging.getLogger("reconbot.chat")


def build_bot(connection: ChatConnection, chat: Chat) -> ChatBot:
    """Return the bot of ``connection``'s platform (each platform's stack loads only when it is used)."""
    if connection.platform is Platform.SLACK:
        from bot.slack.app import SlackBot

        return SlackBot(connection, chat)
    from bot.telegram.app import TelegramBot

    return TelegramBot(connection, chat)


class ChatRuntime:
    """The bots of every workspace that configured one, and one delivery worker for all of them."""

    def __init__(self, engine: Engine, *, feeds: BankFeeds | None = None, public_url: str = "") -> None:
        transports: dict[tuple[int, Platform], ChatTransport] = {}
        self.worker = DeliveryWorker(engine, transports)
        sources = InvoiceSources(engine)
        self.bots: list[ChatBot] = []
        for connection in connections(engine):
            chat = Chat(engine, connection.workspace_id, sources=sources, wake=self.worker.wake,
                        public_url=public_url, feeds=feeds)  # fmt: skip
            bot = build_bot(connection, chat)
            self.bots.append(bot)
            transports[(connection.workspace_id, connection.platform)] = bot.transport
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def mount(self, app: web.Application) -> None:
        """Add the bots' web endpoints (Slack HTTP mode, Telegram webhook) to ``app`` before it starts."""
        for bot in self.bots:
            bot.mount(app)

    async def start(self) -> None:
        """Start every bot (one that fails to start is logged and left out) and the delivery worker."""
        for bot in self.bots:
            try:
                await bot.start()
                log.info("%s bot of workspace %s: %s mode", bot.connection.platform.value,
                         bot.connection.workspace_id, bot.connection.mode)  # fmt: skip
            except Exception as exc:  # a bad token must not take the other bots or the web server down
                log.error("%s bot of workspace %s did not start: %s", bot.connection.platform.value,
                          bot.connection.workspace_id, type(exc).__name__)  # fmt: skip
        self._task = asyncio.create_task(self.worker.run(self._stop))

    async def stop(self) -> None:
        """Stop the worker after its current message, then the bots."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 30)
        for bot in self.bots:
            with contextlib.suppress(Exception):
                await bot.stop()
