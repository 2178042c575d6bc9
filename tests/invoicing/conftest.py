"""Fixtures for the invoicing service tests: a workspace, the services on a controllable clock, served fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from reconbot.core.persistence.database import session_scope
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.invoicing.sources import InvoiceSources, save_credentials
from reconbot.core.services.workspaces import ensure_workspace
from tests.banks.conftest import FakeClock, Sleeps
from tests.fakes.billingo import API_KEY as BILLINGO_KEY
from tests.fakes.billingo import FakeBillingo
from tests.fakes.fakturownia import FakeFakturownia
from tests.fakes.server import serve
from tests.fakes.szamlazz import FakeSzamlazz

STATEMENT_HEADER = (
    "id,booking_date,value_date,amount,currency,counterparty_name,counterparty_iban,reference,end_to_end_id\n"
)
SZAMLAZZ_KEY = "agent-key-0f3c9a7e5b1d4f2a8c6e"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def workspace_id(engine: Engine) -> int:
    with session_scope(engine) as session:
        workspace = ensure_workspace(session, "kert", name="Kert-Építő Kft.", country="HU", currency="HUF")
    assert workspace.id is not None
    return workspace.id


@pytest.fixture
def sources(engine: Engine, clock: FakeClock, sleeps: Sleeps) -> InvoiceSources:
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
