"""The bank-feed schedule: syncs at each workspace's local times, a daily consent check, "sync now".

One APScheduler 3 ``AsyncIOScheduler`` per installation (``SchedulerLock`` decides
which process runs it). Every run claims its unit of work in the database
(``job_claims``), so a second scheduler, a restart or a double click never syncs
the same slot twice.
"""

from __future__ import annotations

import fcntl
import logging
from dataclasses import dataclass
from datetime import UTC, time
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Connection, text
from sqlmodel import Session, col, select

from reconbot.core.persistence.bank_tables import BankConnectionRecord, ConnectionStatus
from reconbot.core.persistence.tables import WorkspaceRecord
from reconbot.core.services.banks.consents import ConsentCheck, check_consents
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.banks.sync import ConnectionSync, require_active, sync_connection
from reconbot.core.services.invoicing.sources import InvoiceSources
from reconbot.core.services.jobs.claims import claim, finish
from reconbot.core.services.jobs.invoicing import (
    HANDOFF_MINUTES,
    PULL_MINUTES,
    WRITE_BACK_SECONDS,
    archive_job,
    handoff_job,
    pull_job,
    write_back_job,
)
from reconbot.core.sync_times import latest_slot, sync_times

log = logging.getLogger(__name__)

# When the daily consent check runs (UTC): early morning in Hungary and Poland.
CONSENT_CHECK_AT = time(6, 0)
# How often the scheduler re-reads workspaces' schedules (a changed setting, a new workspace).
REFRESH_MINUTES = 5
ADVISORY_LOCK_KEY = 0x7265636F  # "reco"


def summary(result: ConnectionSync) -> str:
    """Return one line describing a sync, for claims and logs."""
    if result.expired:
        return "consent expired"
    parts = [
        f"{a.iban or a.account_id}: "
        + (a.skipped or a.error or f"{a.new} new, {a.updated} updated, {a.dropped} dropped")
        for a in result.accounts
    ]
    return "; ".join(parts) or "no accounts"


async def sync_slot(feeds: BankFeeds, workspace_id: int) -> list[str]:
    """Sync every active connection of the workspace for its latest scheduled slot, unless done; return lines."""
    now = feeds.clock()
    with Session(feeds.engine) as session:
        workspace = session.get(WorkspaceRecord, workspace_id)
        if workspace is None:
            return []
        slot = latest_slot(sync_times(workspace.sync_times), workspace.timezone, now)
        connections = list(
            session.exec(
                select(BankConnectionRecord.id).where(
                    col(BankConnectionRecord.workspace_id) == workspace_id,
                    col(BankConnectionRecord.status) == ConnectionStatus.ACTIVE,
                )
            )
        )
    lines = []
    for connection_id in connections:
        assert connection_id is not None
        line = await _claimed_sync(feeds, f"sync:{connection_id}:{slot.isoformat()}", connection_id, "scheduler")
        if line is not None:
            lines.append(line)
    return lines


async def sync_now(feeds: BankFeeds, connection_id: int, *, actor: str) -> ConnectionSync | None:
    """Sync one connection now (a person asked); None when the same request is already running or just ran.

    A double click lands in the same minute and is absorbed by the claim. Raises
    ``ReconciliationError`` when the connection is not active.
    """
    require_active(feeds, connection_id)  # a refusal must not hide behind "already done"
    minute = feeds.clock().replace(second=0, microsecond=0).isoformat()
    key = f"sync:{connection_id}:manual:{minute}"
    if not claim(feeds.engine, key, feeds.clock()):
        return None
    try:
        result = await sync_connection(feeds, connection_id, actor=actor)
    except Exception as exc:
        finish(feeds.engine, key, feeds.clock(), f"failed: {exc}")
        raise
    finish(feeds.engine, key, feeds.clock(), summary(result))
    return result


async def _claimed_sync(feeds: BankFeeds, key: str, connection_id: int, actor: str) -> str | None:
    if not claim(feeds.engine, key, feeds.clock()):
        return None
    try:
        outcome = summary(await sync_connection(feeds, connection_id, actor=actor))
    except Exception as exc:  # one broken connection must not stop the others' syncs
        log.exception("sync of bank connection %s failed", connection_id)
        outcome = f"failed: {type(exc).__name__}: {exc}"
    finish(feeds.engine, key, feeds.clock(), outcome)
    return f"connection {connection_id}: {outcome}"


async def _daily_consent_check(feeds: BankFeeds) -> ConsentCheck | None:
    """Run the consent check once per UTC day; None when this day's check was already done."""
    key = f"consents:{feeds.clock().astimezone(UTC).date().isoformat()}"
    if not claim(feeds.engine, key, feeds.clock()):
        return None
    result = await check_consents(feeds)
    finish(feeds.engine, key, feeds.clock(), f"{result.reminders} reminders, {result.expired} expired")
    return result


@dataclass
class FeedScheduler:
    """The APScheduler jobs of every workspace, kept in step with their settings."""

    feeds: BankFeeds
    scheduler: AsyncIOScheduler

    @classmethod
    def create(cls, feeds: BankFeeds) -> FeedScheduler:
        # Coalesce: a run missed while the loop was busy happens once, not once per missed slot.
        scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={"coalesce": True, "misfire_grace_time": 3600})
        return cls(feeds, scheduler)

    def start(self) -> None:
        """Add the jobs, start the scheduler, and catch up on the latest slot and today's consent check."""
        self.refresh()
        daily = CronTrigger(hour=CONSENT_CHECK_AT.hour, minute=CONSENT_CHECK_AT.minute, timezone=UTC)
        self.scheduler.add_job(_daily_consent_check, daily, args=[self.feeds], id="consents", replace_existing=True)
        self.scheduler.add_job(self.refresh, "interval", minutes=REFRESH_MINUTES, id="refresh", replace_existing=True)
        # Invoicing: the write-back queue is drained often (a pairing should show in the invoicing system within
        # a minute); invoicing systems are pulled every quarter hour.
        invoicing = InvoiceSources(self.feeds.engine, clock=self.feeds.clock, sleep=self.feeds.sleep)
        self.scheduler.add_job(write_back_job, "interval", seconds=WRITE_BACK_SECONDS, args=[invoicing],
                               id="write-back", replace_existing=True, max_instances=1)  # fmt: skip
        self.scheduler.add_job(pull_job, "interval", minutes=PULL_MINUTES, args=[invoicing], id="invoices",
                               replace_existing=True, max_instances=1)  # fmt: skip
        # The archive fetches the PDFs of newly pulled invoices on the same rhythm as the pulls.
        self.scheduler.add_job(archive_job, "interval", minutes=PULL_MINUTES, args=[invoicing], id="archive",
                               replace_existing=True, max_instances=1)  # fmt: skip
        # Accountant handoff: each receiver keeps its own interval (30 min by default) inside ``send_due``; the
        # 5-minute tick also picks up retries and claims a stopped process left behind.
        self.scheduler.add_job(handoff_job, "interval", minutes=HANDOFF_MINUTES, args=[self.feeds],
                               id="handoff", replace_existing=True, max_instances=1)  # fmt: skip
        # Once at start: a slot or a consent check missed while no scheduler ran happens now (claims keep it once).
        self.scheduler.add_job(self._catch_up, id="catch-up", replace_existing=True)
        self.scheduler.start()

    async def _catch_up(self) -> None:
        await _daily_consent_check(self.feeds)
        for workspace_id in self._workspaces():
            await sync_slot(self.feeds, workspace_id)

    def _workspaces(self) -> list[int]:
        with Session(self.feeds.engine) as session:
            return [w for w in session.exec(select(WorkspaceRecord.id)) if w is not None]

    def refresh(self) -> None:
        """Make the sync jobs match the workspaces' current schedules."""
        wanted: dict[str, dict[str, Any]] = {}
        with Session(self.feeds.engine) as session:
            for workspace in session.exec(select(WorkspaceRecord)):
                try:
                    times = sync_times(workspace.sync_times)
                except ValueError as exc:
                    log.error("workspace %s: %s; its bank feeds are not synced", workspace.slug, exc)
                    continue
                for moment in times:
                    job_id = f"sync:{workspace.id}:{moment:%H:%M}:{workspace.timezone}"
                    trigger = CronTrigger(hour=moment.hour, minute=moment.minute, timezone=workspace.timezone)
                    wanted[job_id] = {"trigger": trigger, "args": [self.feeds, workspace.id]}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("sync:") and job.id not in wanted:
                job.remove()
        present = {job.id for job in self.scheduler.get_jobs()}
        for job_id, spec in wanted.items():
            if job_id not in present:
                self.scheduler.add_job(sync_slot, spec["trigger"], args=spec["args"], id=job_id)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


class SchedulerLock:
    """Held by the one process that runs the scheduler: a PostgreSQL advisory lock (on its own connection),
    or on SQLite an exclusive lock on a file beside the database."""

    def __init__(self, feeds: BankFeeds) -> None:
        self.feeds = feeds
        self._connection: Connection | None = None
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        """Return True if this process now holds the lock (or already did)."""
        if self._connection is not None or self._file is not None:
            return True
        engine = self.feeds.engine
        if engine.dialect.name == "postgresql":
            connection = engine.connect()
            held = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}).scalar()
            connection.commit()
            if held:
                self._connection = connection
                return True
            connection.close()
            return False
        database = engine.url.database or ""
        path = Path(database + ".scheduler.lock") if database and database != ":memory:" else None
        if path is None:
            return True
        handle = path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._connection is not None:
            # Unlock explicitly: close() only returns the connection to the pool, where its session
            # (and a session-level advisory lock) lives on. A process that dies loses the lock with its session.
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            self._connection.commit()
            self._connection.close()
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
