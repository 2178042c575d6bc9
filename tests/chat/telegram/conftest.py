"""Fixtures for the Telegram tests: the fake Bot API on a local port, the transport and the bot talking to it,
and stand-ins for the handlers that record what they were asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.types import TelegramObject, Update
from sqlalchemy import Engine

from reconbot.bot.telegram import TelegramBot, TelegramTransport
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.services.chat.setup import ChatConnection, connections, save_connection
from reconbot.handlers import actions, commands
from reconbot.handlers.context import Chat, ChatUser, Place
from reconbot.handlers.messages import Reply
from tests.fakes.server import serve
from tests.fakes.telegram import TOKEN, FakeTelegram


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def api(fake: FakeTelegram) -> AsyncIterator[str]:
    """The fake Bot API's base URL."""
    async with serve(fake.app) as url:
        yield url


@pytest.fixture
async def transport(api: str) -> AsyncIterator[TelegramTransport]:
    transport = TelegramTransport(TOKEN, base=api)
    yield transport
    await transport.close()


def telegram_connection(engine: Engine, workspace_id: int, mode: str) -> ChatConnection:
    """Store the workspace's Telegram bot in ``mode`` and return it as ``reconbot run`` would read it."""
    save_connection(engine, workspace_id, Platform.TELEGRAM, mode, {"bot_token": TOKEN}, actor="test")
    (connection,) = connections(engine, workspace_id)
    return connection


@pytest.fixture
async def polling_bot(engine: Engine, workspace_id: int, chat: Chat, api: str) -> AsyncIterator[TelegramBot]:
    """A started bot in polling mode (the real Dispatcher long-polls the fake); stopped after the test."""
    bot = TelegramBot(telegram_connection(engine, workspace_id, "polling"), chat, api_base=api, polling_timeout=1)
    await bot.start()
    yield bot
    await bot.stop()


class Handled:
    """The ids of the updates the dispatcher has finished with (recorded by an outer middleware)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.ids: set[int] = set()
        self._changed = asyncio.Event()
        dispatcher.update.outer_middleware(self)

    async def __call__(
        self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:  # fmt: skip
        try:
            return await handler(event, data)
        finally:
            if isinstance(event, Update):
                self.ids.add(event.update_id)
            self._changed.set()
            self._changed = asyncio.Event()

    async def wait(self, update_id: int, timeout: float = 10) -> None:
        """Return once update ``update_id`` is handled. Raises TimeoutError."""
        async with asyncio.timeout(timeout):
            while update_id not in self.ids:
                await self._changed.wait()


@pytest.fixture
def handled(polling_bot: TelegramBot) -> Handled:
    return Handled(polling_bot.dispatcher)


@dataclass
class Handlers:
    """Stand-ins for ``handlers.commands`` / ``handlers.actions``: each records its call and returns ``replies``
    (by function name) or raises ``raises``; prompts are remembered in ``prompts``."""

    replies: dict[str, Reply] = field(default_factory=dict)
    raises: Exception | None = None
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    prompts: dict[str, str] = field(default_factory=dict)

    def fake(self, name: str) -> Callable[..., Awaitable[Reply]]:
        async def handler(chat: Chat, user: ChatUser, *args: Any) -> Reply:
            self.calls.append((name, (user, *args)))
            if self.raises is not None:
                raise self.raises
            return self.replies.get(name, Reply())

        return handler

    def remember_prompt(self, chat: Chat, action_id: str, ref: str) -> None:
        self.prompts[ref] = action_id

    def prompt_action(self, chat: Chat, ref: str) -> str | None:
        self.calls.append(("prompt_action", (ref,)))
        return self.prompts.get(ref)

    def places(self) -> list[Place]:
        return [arg for _, args in self.calls for arg in args if isinstance(arg, Place)]


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> Handlers:
    """Replace the handlers the bot calls (through their modules) with recording stand-ins."""
    fakes = Handlers()
    for name in ("run_command", "start"):
        monkeypatch.setattr(commands, name, fakes.fake(name))
    for name in ("press", "answer_number"):
        monkeypatch.setattr(actions, name, fakes.fake(name))
    monkeypatch.setattr(actions, "remember_prompt", fakes.remember_prompt)
    monkeypatch.setattr(actions, "prompt_action", fakes.prompt_action)
    return fakes
