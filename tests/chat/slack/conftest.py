"""Fixtures for the Slack tests: the fake Slack server, a transport and bots pointed at it, and stand-ins for the
handlers that record what the adapter asked of them (helpers in ``tests/support/slack.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from reconbot.bot.slack.app import SlackBot
from reconbot.bot.slack.transport import SlackTransport
from reconbot.handlers.context import Chat
from tests.fakes.server import serve
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.support.slack import Handlers, HttpBot, connection


@pytest.fixture
def fake_slack() -> FakeSlack:
    return FakeSlack()


@pytest.fixture
async def slack_url(fake_slack: FakeSlack) -> AsyncIterator[str]:
    """Return the fake's base URL (the Web API is under ``/api/``)."""
    async with serve(fake_slack.app()) as url:
        yield url


@pytest.fixture
def transport(slack_url: str) -> SlackTransport:
    return SlackTransport(BOT_TOKEN, base_url=f"{slack_url}/api/")


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> Handlers:
    fakes = Handlers()
    fakes.install(monkeypatch)
    return fakes


@pytest.fixture
async def http_bot(chat: Chat, workspace_id: int, slack_url: str) -> AsyncIterator[HttpBot]:
    bot = SlackBot(connection(workspace_id, "http"), chat, base_url=f"{slack_url}/api/")
    app = web.Application()
    bot.mount(app)
    async with serve(app) as url, aiohttp.ClientSession() as session:
        yield HttpBot(bot, url + bot.web_path, slack_url, session)
