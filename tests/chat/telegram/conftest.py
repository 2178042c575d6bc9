"""Fixtures for the Telegram tests: the fake Bot API on a local port, the transport and the bot talking to it,
and stand-ins for the handlers that record what they were asked (helpers in ``tests/support/telegram.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from reconbot.bot.telegram import TelegramBot, TelegramTransport
from reconbot.handlers import actions, commands
from reconbot.handlers.context import Chat
from tests.fakes.server import serve
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.support.telegram import Handled, Handlers, telegram_connection


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


@pytest.fixture
async def polling_bot(engine: Engine, workspace_id: int, chat: Chat, api: str) -> AsyncIterator[TelegramBot]:
    """A started bot in polling mode (the real Dispatcher long-polls the fake); stopped after the test."""
    bot = TelegramBot(telegram_connection(engine, workspace_id, "polling"), chat, api_base=api, polling_timeout=1)
    await bot.start()
    yield bot
    await bot.stop()


@pytest.fixture
def handled(polling_bot: TelegramBot) -> Handled:
    return Handled(polling_bot.dispatcher)


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
