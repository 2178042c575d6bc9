"""Fixtures of the panel tests: a served reconbot web app with a set-up workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from reconbot.admin.app import create_app
from reconbot.core.persistence.tables import Language
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.people.sessions import memberships
from reconbot.core.services.people.sign_in import first_run
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.server import free_port, serve
from tests.support.panel import OWNER_EMAIL, Panel
from tests.support.people import PASSWORD


@pytest.fixture
async def panel(engine: Engine, clock: FakeClock) -> AsyncIterator[Panel]:
    """Return the panel served on a free port, its workspace set up through first run."""
    account = first_run(engine, email=OWNER_EMAIL, password=PASSWORD, owner_name="Anna Kovács",
                        workspace_name="Kert-Építő Kft.", country="HU", timezone="Europe/Budapest", currency="HUF",
                        language=Language.HU)  # fmt: skip
    port = free_port()
    feeds = BankFeeds(engine, clock=clock, sleep=RecordingSleep(), public_url=f"http://127.0.0.1:{port}")
    async with serve(create_app(feeds), port=port) as url:
        found = Panel(engine, feeds, url, clock, account, memberships(engine, account)[0].workspace_id)
        try:
            yield found
        finally:
            await found.close()
