"""Fixtures for the bank-feed tests: a controllable clock, feeds on the test database, a served web app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from reconbot.admin.app import create_app
from reconbot.core.persistence.database import session_scope
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.workspaces import ensure_workspace
from tests.fakes.server import free_port, serve


@dataclass
class FakeClock:
    """The time the services see; tests move it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Sleeps(list[float]):
    """Records the waits retries ask for, without waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # a Monday


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def hu_workspace(engine: Engine) -> int:
    with session_scope(engine) as session:
        workspace = ensure_workspace(session, "kert", name="Kert-Építő Kft.", country="HU", currency="HUF")
    assert workspace.id is not None
    return workspace.id


@pytest.fixture
async def web_feeds(engine: Engine, clock: FakeClock, sleeps: Sleeps) -> AsyncIterator[BankFeeds]:
    """Return feeds whose public address is a running reconbot web app (callback and sandbox bank page)."""
    port = free_port()
    feeds = BankFeeds(engine, clock=clock, sleep=sleeps, public_url=f"http://127.0.0.1:{port}")
    async with serve(create_app(feeds), port=port):
        yield feeds
