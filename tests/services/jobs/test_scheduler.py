"""The real APScheduler, driven by a fake clock through 200 days: sync counts, reminders, expiry, claims."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED, JobEvent
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.persistence.bank_tables import JobClaimRecord
from reconbot.core.persistence.tables import OutboxEventRecord
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.jobs.scheduler import FeedScheduler, sync_slot
from reconbot.core.sync_times import latest_slot, sync_times
from tests.fakes.clock import RecordingSleep
from tests.support.banks import connect_sandbox_directly, import_recent_invoices

BUDAPEST = ZoneInfo("Europe/Budapest")


async def run_until(scheduler: FeedScheduler, traveller: time_machine.Traveller, end: datetime) -> list[str]:
    """Move the clock from one due job to the next until ``end``, letting each run finish; return errors."""
    submitted = finished = 0
    errors: list[str] = []

    def on_event(event: JobEvent) -> None:
        nonlocal submitted, finished
        if event.code == EVENT_JOB_SUBMITTED:
            submitted += 1
        else:
            finished += 1
            if event.code == EVENT_JOB_ERROR:
                errors.append(f"{event.job_id}: {event.exception!r}")

    scheduler.scheduler.add_listener(on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    while True:
        await _settle(lambda: finished >= submitted)
        due = [job.next_run_time for job in scheduler.scheduler.get_jobs() if job.next_run_time is not None]
        if not due or min(due) > end:
            return errors
        traveller.move_to(min(due))
        scheduler.scheduler.wakeup()
        await _settle(lambda: submitted > finished or not _due_now(scheduler))


def _due_now(scheduler: FeedScheduler) -> bool:
    now = datetime.now(UTC)
    return any(job.next_run_time is not None and job.next_run_time <= now for job in scheduler.scheduler.get_jobs())


async def _settle(done: object) -> None:
    for _ in range(10_000):
        await asyncio.sleep(0)
        if done():  # type: ignore[operator]
            return
    raise AssertionError("the scheduler did not settle")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_two_hundred_days_of_schedule(engine: Engine, workspace_id: int, tmp_path: Path) -> None:
    start = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday, 08:00 in Budapest
    end = start + timedelta(days=200)
    with time_machine.travel(start, tick=False) as traveller:
        feeds = BankFeeds(engine, sleep=RecordingSleep(), public_url="http://127.0.0.1:9")
        import_recent_invoices(engine, workspace_id, start.date(), tmp_path)
        connection_id = await connect_sandbox_directly(feeds, workspace_id)
        scheduler = FeedScheduler.create(feeds)
        scheduler.start()
        scheduler.scheduler.remove_job("refresh")  # settings do not change here; 57,600 no-op wakeups saved
        # No invoicing system or receiver here: hundreds of thousands of no-op wakeups saved.
        for job_id in ("write-back", "invoices", "handoff", "archive"):
            scheduler.scheduler.remove_job(job_id)
        try:
            errors = await run_until(scheduler, traveller, end)
        finally:
            scheduler.shutdown()
    assert errors == []

    with Session(engine) as session:
        claims = session.exec(select(JobClaimRecord).order_by(col(JobClaimRecord.claimed_at))).all()
        events = session.exec(select(OutboxEventRecord).order_by(col(OutboxEventRecord.created_at))).all()
    syncs = [c for c in claims if c.key.startswith(f"sync:{connection_id}:")]
    ran = [c for c in syncs if c.outcome != "consent expired"]
    # The consent (180 days from 08:00 on day 0) ends on day 180 at 08:00 UTC, before that day's first sync.
    consent_end = start + timedelta(days=180)
    assert all(c.finished_at is not None for c in claims)
    assert [c for c in syncs if c.outcome == "consent expired"] == [syncs[-1]]
    per_day = Counter(c.claimed_at.astimezone(BUDAPEST).date() for c in ran)
    first_day, last_day = start.astimezone(BUDAPEST).date(), (consent_end - timedelta(days=1)).date()
    # Day 0: the catch-up run (yesterday's 18:30 slot) and three slots; then three a day, summer time included.
    assert per_day[first_day] == 4
    assert all(per_day[first_day + timedelta(days=d)] == 3 for d in range(1, (last_day - first_day).days + 1))
    assert len(ran) == 1 + 3 * 180
    local_times = Counter(c.claimed_at.astimezone(BUDAPEST).time() for c in ran[1:])
    assert set(local_times) == {time(11, 45), time(15, 15), time(18, 30)}

    expiring = [e for e in events if e.kind == "consent_expiring"]
    assert [(e.payload["reminder"], e.created_at.astimezone(BUDAPEST).date()) for e in expiring] == [
        (8, (consent_end - timedelta(days=8)).astimezone(BUDAPEST).date()),
        (2, (consent_end - timedelta(days=2)).astimezone(BUDAPEST).date()),
    ]
    expired = [e for e in events if e.kind == "consent_expired"]
    assert len(expired) == 1 and expired[0].created_at >= consent_end
    consent_checks = [c for c in claims if c.key.startswith("consents:")]
    assert len(consent_checks) == 201  # one a day, none twice
    assert len({c.key for c in claims}) == len(claims)


async def test_a_second_scheduler_or_a_restart_does_not_sync_the_same_slot_again(
    engine: Engine, workspace_id: int
) -> None:
    with time_machine.travel(datetime(2026, 3, 2, 11, 0, tzinfo=UTC), tick=False):
        feeds = BankFeeds(engine, sleep=RecordingSleep(), public_url="http://127.0.0.1:9")
        await connect_sandbox_directly(feeds, workspace_id)
        first, second = await asyncio.gather(sync_slot(feeds, workspace_id), sync_slot(feeds, workspace_id))
        third = await sync_slot(feeds, workspace_id)
    assert sorted([len(first), len(second)]) == [0, 1]
    assert third == []
    with Session(engine) as session:
        assert len(session.exec(select(JobClaimRecord)).all()) == 1


def test_schedule_settings() -> None:
    assert sync_times("11:45,15:15,18:30") == [time(11, 45), time(15, 15), time(18, 30)]
    assert len(sync_times("hourly")) == 24
    assert sync_times("every 6 hours") == [time(0), time(6), time(12), time(18)]
    with pytest.raises(ValueError, match="'25:00'"):
        sync_times("11:45, 25:00")
    slot = latest_slot(sync_times("11:45,15:15,18:30"), "Europe/Budapest", datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    assert slot == datetime(2026, 6, 30, 18, 30, tzinfo=BUDAPEST)


def test_only_one_process_holds_the_scheduler_lock(engine: Engine) -> None:
    from reconbot.core.services.jobs.scheduler import SchedulerLock

    feeds = BankFeeds(engine, public_url="http://127.0.0.1:9")
    first, second = SchedulerLock(feeds), SchedulerLock(feeds)
    assert first.acquire() and first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


async def test_the_scheduler_also_drains_the_write_back_queue_and_pulls_invoices(engine: Engine) -> None:
    scheduler = FeedScheduler.create(BankFeeds(engine, sleep=RecordingSleep(), public_url="http://127.0.0.1:9"))
    scheduler.start()
    try:
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
    finally:
        scheduler.shutdown()
    assert jobs["write-back"].trigger.interval == timedelta(seconds=30)
    assert jobs["invoices"].trigger.interval == timedelta(minutes=15)
    assert jobs["handoff"].trigger.interval == timedelta(minutes=5)
    assert jobs["archive"].trigger.interval == timedelta(minutes=15)
