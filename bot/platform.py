"""One workspace's bot on one platform: what ``reconbot run`` starts, stops and mounts on its web server."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from aiohttp import web

from reconbot.bot.transport import ChatTransport
from reconbot.core.services.chat.setup import ChatConnection
from reconbot.handlers.context import Chat


class ChatBot(ABC):
    """Receives a platform's updates (Socket Mode, polling, or a web endpoint) and sends through ``transport``."""

    def __init__(self, connection: ChatConnection, chat: Chat) -> None:
        self.connection = connection
        self.chat = chat

    @property
    @abstractmethod
    def transport(self) -> ChatTransport:
        """Return what the delivery worker sends this bot's messages through."""

    @property
    def web_path(self) -> str:
        """Return the path of this bot's web endpoint (used in HTTP/webhook mode)."""
        return f"/{self.connection.platform.value}/{self.connection.id}"

    def web_handler(self) -> Callable[[web.Request], Awaitable[web.StreamResponse]] | None:
        """Return what answers a request to ``web_path`` (HTTP/webhook mode), or None when the bot needs none."""
        return None

    def mount(self, app: web.Application) -> None:
        """Add this bot's web endpoint to ``app`` (must be called before the app starts; no-op when not needed)."""
        handler = self.web_handler()
        if handler is not None:
            app.router.add_post(self.web_path, handler)

    @abstractmethod
    async def start(self) -> None:
        """Begin receiving updates (connect Socket Mode, start polling, or register the webhook)."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop receiving and close connections."""
