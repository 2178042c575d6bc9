"""Syncing through Enable Banking's real HTTP API (a local fake that verifies our JWTs): windows, dedupe,
pending → booked, expiry mid-sync, failing pages, 429, failure events, daily limits, a crash mid-store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.domain import InvoiceStatus
from reconbot.core.persistence.bank_tables import BankConnectionRecord, ConnectionStatus
from reconbot.core.persistence.tables import BankAccountRecord, BankTransactionRecord, InvoiceRecord, OutboxEventRecord
from reconbot.core.services.banks import sync as bank_sync
from reconbot.core.services.banks.connections import complete_consent, connect_bank, renew_connection
from reconbot.core.services.banks.providers import BankFeeds, save_credentials
from reconbot.core.services.banks.sync import sync_connection
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.enable_banking import APPLICATION_ID, BankAccount, FakeEnableBanking, make_keypair, make_transaction
from tests.fakes.server import serve
from tests.support.books import INVOICES_HEADER, count

IBAN = "HU42117730161111101800000000"


@dataclass
class Bank:
    fake: FakeEnableBanking
    feeds: BankFeeds
    workspace_id: int
    connection_id: int = 0

    @property
    def uid(self) -> str:
        with Session(self.feeds.engine) as session:
            account = session.exec(
                select(BankAccountRecord).where(col(BankAccountRecord.connection_id) == self.connection_id)
            ).one()
        return account.provider_uid

    def add(self, amount: str, days_ago: int = 1, **fields: Any) -> None:
        day = self.feeds.clock().date() - timedelta(days=days_ago)
        self.fake.add_transaction(self.uid, make_transaction(amount, booking_date=day, currency="HUF", **fields))

    def replace(self, *transactions: dict[str, Any]) -> None:
        self.fake._accounts[self.uid].transactions[:] = list(transactions)

    def rows(self) -> list[BankTransactionRecord]:
        with Session(self.feeds.engine) as session:
            return list(session.exec(select(BankTransactionRecord).order_by(col(BankTransactionRecord.id))))

    async def connect(self) -> int:
        link = await connect_bank(self.feeds, self.workspace_id, "enable-banking", "OTP Bank", actor="test")
        await self._approve(link.state)
        self.connection_id = link.connection_id
        return link.connection_id

    async def renew(self) -> None:
        link = await renew_connection(self.feeds, self.connection_id, actor="test")
        await self._approve(link.state)

    async def _approve(self, state: str) -> None:
        authorization = next(a for a, body in self.fake.auth_requests.items() if body["state"] == state)
        code = self.fake.approve(authorization, [BankAccount(IBAN, "HUF", "Folyószámla")])
        await complete_consent(self.feeds, state, {"code": code, "state": state})


@pytest.fixture
async def bank(engine: Engine, workspace_id: int, clock: FakeClock, sleeps: RecordingSleep) -> AsyncIterator[Bank]:
    private_pem, public_pem = make_keypair()
    fake = FakeEnableBanking(public_pem, clock=clock, page_size=2)
    async with serve(fake.app) as url:
        save_credentials(engine, workspace_id, "enable-banking",
                         {"application_id": APPLICATION_ID, "private_key": private_pem, "base_url": url},
                         actor="test")  # fmt: skip
        feeds = BankFeeds(engine, clock=clock, sleep=sleeps, public_url="http://127.0.0.1:9")
        connected = Bank(fake, feeds, workspace_id)
        await connected.connect()
        yield connected


def windows(bank: Bank) -> list[tuple[str, str]]:
    return [(r.query["date_from"], r.query["date_to"]) for r in bank.fake.requests_to("/transactions")
            if "continuation_key" not in r.query]  # fmt: skip


async def test_the_first_sync_reaches_back_seven_days_and_later_ones_overlap(bank: Bank, clock: FakeClock) -> None:
    today = clock().date()
    await sync_connection(bank.feeds, bank.connection_id)
    clock.advance(days=1)
    await sync_connection(bank.feeds, bank.connection_id)
    assert windows(bank) == [
        (str(today - timedelta(days=7)), str(today)),
        (str(today - timedelta(days=5)), str(today + timedelta(days=1))),
    ]


async def test_overlapping_windows_and_pages_store_every_transaction_once(bank: Bank, clock: FakeClock) -> None:
    for n in range(5):
        bank.add(f"{1000 + n}.00", days_ago=n, debtor_name=f"Payer {n}", entry_reference=f"E{n}")
    bank.add("500.00", days_ago=2, debtor_name="Twin")  # no id: a genuine pair of identical payments
    bank.add("500.00", days_ago=2, debtor_name="Twin")
    first = await sync_connection(bank.feeds, bank.connection_id)
    clock.advance(hours=4)
    second = await sync_connection(bank.feeds, bank.connection_id)
    assert first.accounts[0].new == 7 and second.accounts[0].new == 0
    assert len(bank.fake.requests_to("/transactions")) >= 2 * 4  # four pages of two, twice
    rows = bank.rows()
    assert len(rows) == 7
    assert sorted(r.amount for r in rows if r.counterparty_name == "Twin") == [Decimal("500.00")] * 2


async def test_a_pending_payment_booked_later_under_a_new_id_is_one_transaction_and_gets_matched(
    bank: Bank, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "INVOICES.csv"
    path.write_text(INVOICES_HEADER + "E-2026-7,issued,invoice,Zöldkert Kft.,,,,2026-02-20,2026-03-01,"
                    "127000,HUF,0,issued\n", encoding="utf-8")  # fmt: skip
    from reconbot.core.services.invoicing.imports import import_invoices

    import_invoices(bank.feeds.engine, bank.workspace_id, path, actor="test")
    pending = make_transaction("127000", booking_date=clock().date(), currency="HUF", status="PDNG",
                               debtor_name="Zöldkert Kft.", remittance=["E-2026-7"], transaction_id="P-1")  # fmt: skip
    bank.replace(pending)
    await sync_connection(bank.feeds, bank.connection_id)
    [row] = bank.rows()
    assert row.pending and row.status.value == "unmatched"

    clock.advance(days=1)
    booked = make_transaction("127000", booking_date=clock().date(), currency="HUF", status="BOOK",
                              debtor_name="Zöldkert Kft.", remittance=["E-2026-7"], entry_reference="B-77")  # fmt: skip
    bank.replace(booked)
    result = await sync_connection(bank.feeds, bank.connection_id)
    [row] = bank.rows()
    assert (row.pending, row.bank_id, row.booking_date) == (False, "B-77", clock().date())
    assert result.accounts[0].updated == 1 and result.matching.matched == 1
    with Session(bank.feeds.engine) as session:
        invoice = session.exec(select(InvoiceRecord)).one()
    assert invoice.status is InvoiceStatus.PAID


async def test_a_booked_transaction_whose_bank_id_changed_is_not_stored_twice(bank: Bank, clock: FakeClock) -> None:
    original = make_transaction("9900", booking_date=clock().date() - timedelta(days=1), currency="HUF",
                                debtor_name="Szabó Anna", remittance=["rent"], entry_reference="OLD-1")  # fmt: skip
    bank.replace(original)
    await sync_connection(bank.feeds, bank.connection_id)
    bank.replace({**original, "entry_reference": "NEW-1"})
    clock.advance(hours=5)
    await sync_connection(bank.feeds, bank.connection_id)
    [row] = bank.rows()
    assert row.bank_id == "NEW-1"


async def test_consent_expiring_mid_sync_stores_nothing_half_and_renewal_resumes(bank: Bank, clock: FakeClock) -> None:
    for n in range(5):
        bank.add(f"{2000 + n}", days_ago=n, debtor_name=f"P{n}", entry_reference=f"X{n}")
    with Session(bank.feeds.engine) as session:
        reference = session.get(BankConnectionRecord, bank.connection_id).consent_reference  # type: ignore[union-attr]
    bank.fake.expire_session(str(reference), after_pages=1)

    result = await sync_connection(bank.feeds, bank.connection_id)

    assert result.expired and bank.rows() == []
    with Session(bank.feeds.engine) as session:
        connection = session.get(BankConnectionRecord, bank.connection_id)
        assert connection is not None and connection.status is ConnectionStatus.EXPIRED
    assert count(bank.feeds.engine, OutboxEventRecord, kind="consent_expired") == 1

    await bank.renew()
    for n in range(5):
        bank.add(f"{2000 + n}", days_ago=n, debtor_name=f"P{n}", entry_reference=f"X{n}")
    again = await sync_connection(bank.feeds, bank.connection_id)
    assert again.accounts[0].new == 5 and len(bank.rows()) == 5


async def test_a_page_failing_halfway_is_retried_and_429_waits_as_told(
    bank: Bank, clock: FakeClock, sleeps: RecordingSleep
) -> None:
    for n in range(5):
        bank.add(f"{300 + n}", days_ago=n, debtor_name=f"P{n}", entry_reference=f"R{n}")
    bank.fake.fail_page(bank.uid, 1, status=502, times=1)
    bank.fake.rate_limit(1, retry_after=7)
    result = await sync_connection(bank.feeds, bank.connection_id)
    assert result.accounts[0].new == 5 and result.accounts[0].error == ""
    assert 7.0 in sleeps.waits and len(sleeps.waits) == 2


async def test_repeated_failures_announce_sync_failing_once_and_recovery_once(bank: Bank, clock: FakeClock) -> None:
    bank.add("100", debtor_name="X", entry_reference="F1")
    bank.fake.fail_page(bank.uid, 0, status=503, times=10_000)
    for _ in range(3):
        result = await sync_connection(bank.feeds, bank.connection_id)
        assert "503" in result.accounts[0].error
        clock.advance(hours=3)
    assert count(bank.feeds.engine, OutboxEventRecord, kind="sync_failing") == 1
    with Session(bank.feeds.engine) as session:
        assert session.exec(select(BankAccountRecord)).one().last_error

    bank.fake.fail_page(bank.uid, 0, status=503, times=0)
    recovered = await sync_connection(bank.feeds, bank.connection_id)
    assert recovered.accounts[0].new == 1
    assert count(bank.feeds.engine, OutboxEventRecord, kind="sync_recovered") == 1
    with Session(bank.feeds.engine) as session:
        account = session.exec(select(BankAccountRecord)).one()
    assert account.last_error == "" and account.failing_since is None


async def test_the_banks_daily_limit_is_never_exceeded(bank: Bank, clock: FakeClock) -> None:
    clock.now = clock.now.replace(hour=6)
    for _ in range(4):
        assert (await sync_connection(bank.feeds, bank.connection_id)).accounts[0].skipped == ""
        clock.advance(hours=1)
    calls = len(bank.fake.requests_to("/transactions"))
    fifth = await sync_connection(bank.feeds, bank.connection_id)
    assert "4 syncs a day" in fifth.accounts[0].skipped
    assert len(bank.fake.requests_to("/transactions")) == calls
    clock.advance(days=1)
    assert (await sync_connection(bank.feeds, bank.connection_id)).accounts[0].skipped == ""


async def test_a_crash_while_storing_loses_nothing_and_duplicates_nothing(
    bank: Bank, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        bank.add(f"{700 + n}", days_ago=n, debtor_name=f"P{n}", entry_reference=f"C{n}")

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(bank_sync, "run_matching", crash)
        with pytest.raises(RuntimeError):
            await sync_connection(bank.feeds, bank.connection_id)
    assert bank.rows() == []
    with Session(bank.feeds.engine) as session:
        assert session.exec(select(BankAccountRecord)).one().synced_through is None

    clock.advance(minutes=10)
    result = await sync_connection(bank.feeds, bank.connection_id)
    assert result.accounts[0].new == 3 and len(bank.rows()) == 3


async def test_a_429_for_the_banks_daily_allowance_is_not_retried(
    bank: Bank, clock: FakeClock, sleeps: RecordingSleep
) -> None:
    bank.add("100", entry_reference="D1")
    bank.fake.inject_error("GET", f"/accounts/{bank.uid}/transactions", 429, "ASPSP_RATE_LIMIT_EXCEEDED", times=5)
    result = await sync_connection(bank.feeds, bank.connection_id)
    assert "daily limit" in result.accounts[0].skipped
    assert sleeps.waits == [] and len(bank.fake.requests_to("/transactions")) == 1
    assert "4 syncs a day" in (await sync_connection(bank.feeds, bank.connection_id)).accounts[0].skipped
    assert len(bank.fake.requests_to("/transactions")) == 1  # the second sync asked the bank nothing
