"""The status page through the real web app: what bank roles see, what others never see, and the queues."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import aiohttp
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from reconbot.admin.app import create_app
from reconbot.admin.status_pages import RUNNING_SCHEDULER_KEY
from reconbot.core.domain import TransactionStatus
from reconbot.core.persistence.bank_tables import BankConnectionRecord, ConnectionStatus, JobClaimRecord
from reconbot.core.persistence.chat_tables import ChatChannelRecord, ChatMessageRecord, MessageStatus, Platform
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.invoicing_tables import (
    InvoiceSourceRecord,
    OperationKind,
    OperationStatus,
    SourceOperationRecord,
)
from reconbot.core.persistence.tables import BankAccountRecord, BankTransactionRecord
from reconbot.core.roles import Role
from reconbot.core.services.jobs.scheduler import FeedScheduler, SchedulerLock
from tests.fakes.server import serve
from tests.support.panel import Panel

BANK = "Próba Takarékbank"
IBAN = "HU42117730161111101800000000"


@dataclass(frozen=True)
class Seeded:
    connection_id: int
    account_id: int
    synced_at: datetime
    queued_at: datetime


def seed(engine: Engine, workspace_id: int, now: datetime) -> Seeded:
    """Store a connected bank (consent ending in 10 days) whose account synced 2 hours ago and failed since,
    3 unmatched and 1 matched transaction, a chat channel with a problem and 2 pending messages (the oldest
    queued 90 minutes ago), a failed and a pending write-back, and an invoicing source that failed."""
    synced_at, queued_at = now - timedelta(hours=2), now - timedelta(minutes=90)
    with session_scope(engine) as session:
        connection = BankConnectionRecord(workspace_id=workspace_id, provider="enable_banking", institution_id="X",
                                          institution_name=BANK, country="HU", status=ConnectionStatus.ACTIVE,
                                          consent_valid_until=now + timedelta(days=10), created_by="test")  # fmt: skip
        session.add(connection)
        session.flush()
        assert connection.id is not None
        account = BankAccountRecord(workspace_id=workspace_id, iban=IBAN, currency="HUF", name="Főszámla",
                                    connection_id=connection.id, last_sync_at=now - timedelta(minutes=5),
                                    last_success_at=synced_at, last_error="bank said: 503 Service Unavailable",
                                    failing_since=now - timedelta(minutes=5))  # fmt: skip
        session.add(account)
        session.flush()
        assert account.id is not None
        for n, status in enumerate([TransactionStatus.UNMATCHED] * 3 + [TransactionStatus.MATCHED]):
            session.add(BankTransactionRecord(workspace_id=workspace_id, bank_account_id=account.id,
                                              dedupe_key=f"d{n}", external_id=f"T{n}", booking_date=date(2026, 3, 1),
                                              amount=Decimal("12500.00"), currency="HUF", status=status))  # fmt: skip
        session.add(JobClaimRecord(key=f"sync:{connection.id}:2026-03-02T08:45+01:00", owner="host:1",
                                   claimed_at=synced_at, finished_at=synced_at, outcome=f"{IBAN}: 4 new"))  # fmt: skip
        channel = ChatChannelRecord(workspace_id=workspace_id, platform=Platform.SLACK, address="C0FINANCE",
                                    name="#finance", problem="channel_not_found", problem_at=queued_at)  # fmt: skip
        session.add(channel)
        session.flush()
        assert channel.id is not None
        for n, (state, created) in enumerate([(MessageStatus.PENDING, queued_at), (MessageStatus.PENDING, now),
                                                (MessageStatus.SENT, now - timedelta(days=1))]):  # fmt: skip
            session.add(ChatMessageRecord(workspace_id=workspace_id, channel_id=channel.id, event_id=f"e{n}",
                                          kind="payment_matched", status=state, created_at=created))  # fmt: skip
        session.add(SourceOperationRecord(workspace_id=workspace_id, source="billingo", key="payment:1",
                                          kind=OperationKind.REGISTER_PAYMENT, status=OperationStatus.FAILED,
                                          attempts=8, last_error="invoice 2026-17 is cancelled",
                                          created_by="test"))  # fmt: skip
        session.add(SourceOperationRecord(workspace_id=workspace_id, source="billingo", key="payment:2",
                                          kind=OperationKind.REGISTER_PAYMENT, created_by="test"))  # fmt: skip
        session.add(InvoiceSourceRecord(workspace_id=workspace_id, name="billingo", credentials="sealed",
                                        last_sync_at=now, last_error="401 Unauthorized"))  # fmt: skip
    return Seeded(connection.id, account.id, synced_at, queued_at)


async def test_bank_roles_see_accounts_syncs_and_consents_in_the_workspace_zone(panel: Panel) -> None:
    seed(panel.engine, panel.workspace_id, panel.clock())
    status, body = await (await panel.visitor(Role.ACCOUNTANT)).get("/status")
    assert status == 200
    assert BANK in body and IBAN in body and "Főszámla" in body
    assert "bank said: 503 Service Unavailable" in body
    assert "2026-03-02 08:00" in body  # last success: 07:00 UTC, shown in Budapest time (UTC+1)
    assert '<span class="tag good">10</span>' in body  # consent days left (10 > the 8-day reminder)
    assert f"{IBAN}: 4 new" in body  # the sync run's outcome


async def test_an_operator_sees_the_queues_but_nothing_of_the_bank(panel: Panel) -> None:
    seed(panel.engine, panel.workspace_id, panel.clock())
    status, body = await (await panel.visitor(Role.OPERATOR)).get("/status")
    assert status == 200
    for bank_data in (BANK, IBAN, "Főszámla", "503 Service Unavailable", "4 new", "Consents"):
        assert bank_data not in body
    assert "pending: 2" in body and "sent: 1" in body  # chat queue by status
    assert "1 h 30 min" in body  # the oldest message waiting
    assert "#finance: channel_not_found" in body
    assert "failed: 1" in body and "invoice 2026-17 is cancelled" in body  # the failed write-back
    assert "401 Unauthorized" in body  # the invoicing system's last error


async def test_the_scheduler_shows_as_running_only_while_some_process_holds_its_lock(panel: Panel) -> None:
    owner = await panel.visitor()
    _, body = await owner.get("/status")
    assert "No scheduler is running" in body
    assert "2026-03-02 11:45, 2026-03-02 15:15, 2026-03-02 18:30" in body  # next syncs: 10:00 in Budapest now
    lock = SchedulerLock(panel.feeds)
    assert lock.acquire()
    try:
        _, body = await owner.get("/status")
        assert "Another reconbot process runs the scheduler" in body and "No scheduler is running" not in body
    finally:
        lock.release()
    _, body = await owner.get("/status")
    assert "No scheduler is running" in body


async def test_strangers_are_sent_to_sign_in(panel: Panel) -> None:
    status, body = await (await panel.visitor(None)).get("/status")
    assert status == 200 and "Sign in to reconbot" in body


async def test_a_process_running_the_scheduler_lists_the_workspace_jobs_next_runs(panel: Panel) -> None:
    app = create_app(panel.feeds)
    scheduler = FeedScheduler.create(panel.feeds)
    scheduler.scheduler.start(paused=True)  # jobs get their next run times; none runs
    scheduler.refresh()
    app[RUNNING_SCHEDULER_KEY].scheduler = scheduler
    try:
        async with serve(app) as url:
            here = replace(panel, url=url, _clients=[])
            try:
                _, body = await (await here.visitor()).get("/status")
            finally:
                await here.close()
    finally:
        scheduler.shutdown()
    assert "This process runs the scheduler." in body
    job = f"sync:{panel.workspace_id}:11:45:Europe/Budapest"
    # The date is the real one: APScheduler keeps its own clock.
    assert re.search(rf"<td>{job}</td><td class=\"num\">\d\d\d\d-\d\d-\d\d 11:45</td>", body)


async def test_healthz_answers_503_once_the_database_does_not(panel: Panel, tmp_path: Path) -> None:
    status, body = await (await panel.visitor(None)).get("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    missing = create_engine(f"sqlite:///{tmp_path / 'no such folder' / 'reconbot.db'}", poolclass=NullPool)
    async with serve(create_app(replace(panel.feeds, engine=missing))) as url, aiohttp.ClientSession() as http:
        response = await http.get(url + "/healthz")
        assert (response.status, await response.json()) == (503, {"status": "unavailable"})
