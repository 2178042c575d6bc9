"""Consent reminders (8 and 2 days before the end, each once) and expiry, with a controlled clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.persistence.bank_tables import BankConnectionRecord, ConnectionStatus
from reconbot.core.persistence.tables import OutboxEventRecord
from reconbot.core.services.banks.consents import check_consents, due_reminder, reminder_days
from reconbot.core.services.banks.providers import BankFeeds
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.support.banks import connect_sandbox_directly


def reminders(engine: Engine) -> list[tuple[int, int]]:
    with Session(engine) as session:
        events = session.exec(
            select(OutboxEventRecord)
            .where(col(OutboxEventRecord.kind) == "consent_expiring")
            .order_by(col(OutboxEventRecord.created_at))
        ).all()
    return [(e.payload["reminder"], e.payload["days_left"]) for e in events]


async def test_reminders_fire_on_the_8th_and_2nd_day_before_the_end_once_each(
    engine: Engine, workspace_id: int, clock: FakeClock, sleeps: RecordingSleep
) -> None:
    feeds = BankFeeds(engine, clock=clock, sleep=sleeps)
    connection_id = await connect_sandbox_directly(feeds, workspace_id)
    with Session(engine) as session:
        record = session.get(BankConnectionRecord, connection_id)
        assert record is not None and record.consent_valid_until is not None
        end = record.consent_valid_until

    seen: dict[int, list[tuple[int, int]]] = {}
    day = 0
    while clock() < end + timedelta(days=2):
        for _ in range(3):  # checking several times a day changes nothing
            await check_consents(feeds)
        seen[day] = reminders(engine)
        clock.advance(days=1)
        day += 1
    final = reminders(engine)
    assert final == [(8, 8), (2, 2)]
    first_8 = min(d for d, r in seen.items() if r)
    first_2 = min(d for d, r in seen.items() if len(r) == 2)
    assert first_2 - first_8 == 6
    with Session(engine) as session:
        record = session.get(BankConnectionRecord, connection_id)
        assert record is not None and record.status is ConnectionStatus.EXPIRED
        expired = session.exec(select(OutboxEventRecord).where(col(OutboxEventRecord.kind) == "consent_expired")).all()
    assert len(expired) == 1


async def test_a_consent_found_late_gets_only_the_tightest_reminder(
    engine: Engine, workspace_id: int, clock: FakeClock, sleeps: RecordingSleep
) -> None:
    feeds = BankFeeds(engine, clock=clock, sleep=sleeps)
    await connect_sandbox_directly(feeds, workspace_id)
    clock.advance(days=179)  # no check ran for half a year: one day left
    await check_consents(feeds)
    assert reminders(engine) == [(2, 1)]


def test_reminder_thresholds() -> None:
    assert reminder_days("8,2") == [8, 2]
    assert reminder_days(" 2; 8 ,14") == [14, 8, 2]
    assert due_reminder(9, [8, 2]) is None
    assert due_reminder(8, [8, 2]) == 8
    assert due_reminder(3, [8, 2]) == 8
    assert due_reminder(2, [8, 2]) == 2
    with pytest.raises(ValueError, match="'x'"):
        reminder_days("8,x")
