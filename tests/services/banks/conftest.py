"""Fixtures of the bank-feed service tests: feeds served by a running reconbot web app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from reconbot.admin.app import create_app
from reconbot.core.services.banks.providers import BankFeeds
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.server import free_port, serve


@pytest.fixture
async def web_feeds(engine: Engine, clock: FakeClock, sleeps: RecordingSleep) -> AsyncIterator[BankFeeds]:
    """Return feeds whose public address is a running reconbot web app (callback and sandbox bank page)."""
    port = free_port()
    feeds = BankFeeds(engine, clock=clock, sleep=sleeps, public_url=f"http://127.0.0.1:{port}")
    async with serve(create_app(feeds), port=port):
        yield feeds
