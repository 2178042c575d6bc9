"""The workspace's invoicing systems as the tests set them up (a plugin of the root conftest): the invoicing
services on the test's clock and sleep, and each system's fake served with the workspace connected to it.

The fixtures: ``sources``, ``billingo``, ``fakturownia``, ``szamlazz`` and ``pay`` (a payment arriving on a
statement).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.invoicing.sources import InvoiceSources, save_credentials
from tests.fakes.billingo import API_KEY as BILLINGO_KEY
from tests.fakes.billingo import FakeBillingo
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.fakturownia import FakeFakturownia
from tests.fakes.server import serve
from tests.fakes.szamlazz import FakeSzamlazz
from tests.support.books import STATEMENT_HEADER

SZAMLAZZ_KEY = "agent-key-0f3c9a7e5b1d4f2a8c6e"


@pytest.fixture
def sources(engine: Engine, clock: FakeClock, sleeps: RecordingSleep) -> InvoiceSources:
    return InvoiceSources(engine, clock=clock, sleep=sleeps, timeout_seconds=0.5)


@pytest.fixture
async def billingo(engine: Engine, workspace_id: int, clock: FakeClock) -> AsyncIterator[FakeBillingo]:
    """A served fake Billingo the workspace is connected to."""
    fake = FakeBillingo(clock=clock)
    async with serve(fake.app) as url:
        save_credentials(engine, workspace_id, "billingo", {"api_key": BILLINGO_KEY, "base_url": f"{url}/v3"},
                         actor="cli:test")  # fmt: skip
        yield fake


@pytest.fixture
async def fakturownia(engine: Engine, workspace_id: int, clock: FakeClock) -> AsyncIterator[FakeFakturownia]:
    fake = FakeFakturownia(clock=clock)
    async with serve(fake.app) as url:
        save_credentials(engine, workspace_id, "fakturownia", fake.credentials(url), actor="cli:test")
        yield fake


@pytest.fixture
async def szamlazz(engine: Engine, workspace_id: int) -> AsyncIterator[FakeSzamlazz]:
    fake = FakeSzamlazz(agent_key=SZAMLAZZ_KEY)
    async with serve(fake.app) as url:
        save_credentials(engine, workspace_id, "szamlazz", {"agent_key": SZAMLAZZ_KEY, "base_url": url},
                         actor="cli:test")  # fmt: skip
        yield fake


@pytest.fixture
def pay(engine: Engine, workspace_id: int, tmp_path: Path) -> Callable[..., None]:
    """Return a function importing a statement with one incoming payment (matched like any import)."""
    counter = iter(range(1, 1000))

    def import_payment(amount: str, reference: str, *, currency: str = "HUF", payer: str = "Kovács Kft.") -> None:
        n = next(counter)
        path = tmp_path / f"statement-{n}.csv"
        path.write_text(STATEMENT_HEADER + f"T{n},2026-03-02,2026-03-02,{amount},{currency},{payer},,{reference},\n",
                        encoding="utf-8")  # fmt: skip
        import_statement(engine, workspace_id, path, actor="cli:test")

    return import_payment
