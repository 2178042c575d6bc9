"""Everything chat in one process: each configured bot, and the delivery worker that sends through them.

Bots follow the stored settings without a restart: ``reload`` starts the bots of connections saved
since (the panel calls it), and the web endpoints are two catch-all routes that hand each request to
the bot currently running for that connection, since aiohttp cannot add routes once it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

import aiohttp
from aiohttp import web
from sqlalchemy import Engine

from reconbot.bot.delivery import DeliveryWorker
from reconbot.bot.platform import ChatBot
from reconbot.bot.transport import ChatTransport
from reconbot.core.errors import SetupError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.persistence.tables import utcnow
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.chat.setup import ChatConnection, connections
from reconbot.core.services.invoicing.sources import InvoiceSources
from reconbot.core.settings import slack_api_url
from reconbot.handlers.context import Chat

log = logging.getLogger(__name__)


def build_bot(connection: ChatConnection, chat: Chat) -> ChatBot:
    """Return the bot of ``connection``'s platform (each platform's stack loads only when it is used)."""
    if connection.platform is Platform.SLACK:
        from reconbot.bot.slack.app import SlackBot

        return SlackBot(connection, chat)
    from reconbot.bot.telegram.app import TelegramBot

    return TelegramBot(connection, chat)


async def verify_credentials(platform: Platform, values: Mapping[str, str]) -> str:
    """Ask the platform who the bot token in ``values`` belongs to; return the bot's username.

    Raises SetupError when the platform refuses the token or cannot be reached (the message never holds it).
    """
    token = values.get("bot_token", "").strip()
    if not token:
        raise SetupError(f"{platform.value}: a bot token is required")
    if platform is Platform.TELEGRAM:
        return await _telegram_username(token)
    return await _slack_username(token)


async def _telegram_username(token: str) -> str:
    from aiogram.exceptions import AiogramError, TelegramUnauthorizedError
    from aiogram.utils.token import TokenValidationError

    from reconbot.bot.telegram.transport import TelegramTransport

    try:
        transport = TelegramTransport(token)
    except TokenValidationError:
        raise SetupError("that is not a Telegram bot token (it looks like 123456:ABC…)") from None
    try:
        me = await transport.bot.get_me()
    except TelegramUnauthorizedError:
        raise SetupError("Telegram refused this bot token (revoked or mistyped)") from None
    except (AiogramError, aiohttp.ClientError, OSError, TimeoutError) as error:
        raise SetupError(f"cannot reach Telegram to check the token ({type(error).__name__})") from None
    finally:
        await transport.close()
    return me.username or ""


async def _slack_username(token: str) -> str:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    try:
        answer = await AsyncWebClient(token=token, base_url=slack_api_url()).auth_test()
    except SlackApiError as error:
        data = error.response.data if isinstance(error.response.data, dict) else {}
        raise SetupError(f"Slack refused this bot token ({data.get('error') or 'refused'})") from None
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        raise SetupError(f"cannot reach Slack to check the token ({type(error).__name__})") from None
    return str(answer.get("user") or "")


def _settings(connection: ChatConnection) -> tuple[object, ...]:
    """Return what, when changed, needs a new bot (a new bot name alone does not)."""
    return (connection.workspace_id, connection.platform, connection.mode, sorted(connection.credentials.items()))


class ChatRuntime:
    """The bots of every workspace that configured one, and one delivery worker for all of them."""

    def __init__(self, engine: Engine, *, feeds: BankFeeds | None = None, public_url: str = "") -> None:
        self.engine = engine
        self.feeds = feeds
        self.public_url = public_url
        # One clock for the whole process: the panel's (link codes it issues expire by it) and the bots'.
        self.clock = feeds.clock if feeds is not None else utcnow
        self._transports: dict[tuple[int, Platform], ChatTransport] = {}
        self.worker = DeliveryWorker(engine, self._transports, clock=self.clock)
        self._sources = InvoiceSources(engine, clock=self.clock)
        self._bots: dict[int, ChatBot] = {}  # connection id → its bot
        self._failed: set[int] = set()  # connections whose bot did not start: the next reload tries again
        self._running = False
        self._lock = asyncio.Lock()
        self._pending: set[asyncio.Task[list[int]]] = set()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        for connection in connections(engine):
            self._build(connection)

    @property
    def bots(self) -> list[ChatBot]:
        """Return the bots built from the current settings, oldest connection first."""
        return [self._bots[key] for key in sorted(self._bots)]

    def _build(self, connection: ChatConnection) -> ChatBot | None:
        chat = Chat(self.engine, connection.workspace_id, sources=self._sources, wake=self.worker.wake,
                    public_url=self.public_url, feeds=self.feeds, clock=self.clock)  # fmt: skip
        try:
            bot = build_bot(connection, chat)
        except SetupError as exc:  # an incomplete connection must not keep the other bots from running
            log.error("%s bot of workspace %s: %s", connection.platform.value, connection.workspace_id, exc)
            return None
        self._bots[connection.id] = bot
        self._transports[(connection.workspace_id, connection.platform)] = bot.transport
        return bot

    def mount(self, app: web.Application) -> None:
        """Add the bots' web endpoints (Slack HTTP mode, Telegram webhook) to ``app`` before it starts: one route
        per platform that serves whichever bot runs for the connection in the path now (404 when none)."""
        for platform in Platform:
            app.router.add_post(f"/{platform.value}/{{connection_id}}", self._dispatch)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["connection_id"]
        bot = self._bots.get(int(key)) if key.isdigit() else None
        handler = bot.web_handler() if bot is not None and request.path == bot.web_path else None
        if handler is None:
            raise web.HTTPNotFound(text="No bot listens here.")
        return await handler(request)

    async def start(self) -> None:
        """Start every bot (one that fails to start is logged and left out) and the delivery worker."""
        async with self._lock:
            self._running = True
            for bot in self.bots:
                await self._start_bot(bot)
        self._task = asyncio.create_task(self.worker.run(self._stop))

    async def _start_bot(self, bot: ChatBot) -> None:
        connection = bot.connection
        try:
            await bot.start()
            self._failed.discard(connection.id)
            log.info("%s bot of workspace %s: %s mode", connection.platform.value, connection.workspace_id,
                     connection.mode)  # fmt: skip
        except Exception as exc:  # a bad token must not take the other bots or the web server down
            self._failed.add(connection.id)
            log.error("%s bot of workspace %s did not start: %s", connection.platform.value,
                      connection.workspace_id, type(exc).__name__)  # fmt: skip

    async def reload(self) -> list[int]:
        """Follow the stored settings: stop the bots of removed or changed connections, build and (when running)
        start the bots of new or changed ones and of those that failed to start; wake the delivery worker.
        Return the ids of the connections whose bot was (re)built."""
        async with self._lock:
            current = {connection.id: connection for connection in connections(self.engine)}
            for key, bot in list(self._bots.items()):
                found = current.get(key)
                if found is None or _settings(found) != _settings(bot.connection) or key in self._failed:
                    await self._drop(key, bot)
            built: list[int] = []
            for key, connection in current.items():
                if key in self._bots:
                    continue
                fresh = self._build(connection)
                if fresh is not None:
                    built.append(key)
                    if self._running:
                        await self._start_bot(fresh)
        self.worker.wake()  # messages queued meanwhile (a test message) go now
        return built

    async def _drop(self, key: int, bot: ChatBot) -> None:
        del self._bots[key]
        self._failed.discard(key)
        slot = (bot.connection.workspace_id, bot.connection.platform)
        if self._transports.get(slot) is bot.transport:
            del self._transports[slot]
        with contextlib.suppress(Exception):  # a bot that never started may fail to stop; it is gone either way
            await bot.stop()

    def reload_soon(self) -> asyncio.Task[list[int]]:
        """Start ``reload`` in the background (what the panel calls after a chat setting changed); return its task."""
        task = asyncio.get_running_loop().create_task(self.reload())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def settle(self) -> None:
        """Wait for the reloads started by ``reload_soon`` to finish."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def stop(self) -> None:
        """Stop the worker after its current message, then the bots."""
        await self.settle()
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 30)
        async with self._lock:
            self._running = False
            for bot in self.bots:
                with contextlib.suppress(Exception):
                    await bot.stop()
