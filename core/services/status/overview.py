"""What the status page and ``/metrics`` report: whether the scheduler runs and when it runs next, how the bank
and invoicing syncs went, consents' end dates, and the chat, write-back and outbox queues.

Bank parts (accounts, their syncs, consents) are read only for viewers who may see bank data; the caller asks.
"""

from __future__ import annotations

import fcntl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, or_, text
from sqlmodel import Session, col, select

from reconbot.core.persistence.bank_tables import BankConnectionRecord, ConnectionStatus, JobClaimRecord
from reconbot.core.persistence.chat_tables import ChatChannelRecord, ChatMessageRecord, MessageStatus
from reconbot.core.persistence.invoicing_tables import InvoiceSourceRecord, OperationStatus, SourceOperationRecord
from reconbot.core.persistence.tables import BankAccountRecord, OutboxEventRecord, WorkspaceRecord
from reconbot.core.services.banks.consents import days_left
from reconbot.core.services.jobs.scheduler import ADVISORY_LOCK_KEY, FeedScheduler
from reconbot.core.sync_times import sync_times

RECENT_CLAIMS = 10
FAILED_SHOWN = 20


@dataclass(frozen=True, slots=True)
class AccountSync:
    id: int
    name: str
    iban: str
    currency: str
    connection_id: int | None
    last_sync_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    failing_since: datetime | None


@dataclass(frozen=True, slots=True)
class ConsentView:
    connection_id: int
    bank: str
    status: ConnectionStatus
    valid_until: datetime | None
    days_left: int | None  # calendar days in the workspace's zone; negative once ended


@dataclass(frozen=True, slots=True)
class SourceSync:
    name: str
    last_sync_at: datetime | None
    last_success_at: datetime | None
    last_error: str


@dataclass(frozen=True, slots=True)
class ChannelProblem:
    name: str
    platform: str
    problem: str
    since: datetime | None


@dataclass(frozen=True, slots=True)
class FailedOperation:
    id: int
    source: str
    kind: str
    attempts: int
    last_error: str


@dataclass(frozen=True, slots=True)
class Claim:
    key: str
    owner: str
    claimed_at: datetime
    finished_at: datetime | None
    outcome: str


@dataclass(frozen=True)
class WorkspaceStatus:
    """One workspace's state; ``accounts``, ``consents`` and ``claims`` stay empty unless bank data was asked for.
    ``timezone`` is the workspace's, in which the page shows every moment."""

    timezone: str
    next_syncs: list[datetime]
    sources: list[SourceSync]
    messages: dict[str, int]
    oldest_pending: datetime | None
    channel_problems: list[ChannelProblem]
    operations: dict[str, int]
    failed_operations: list[FailedOperation]
    undelivered_events: int
    accounts: list[AccountSync] = field(default_factory=list)
    consents: list[ConsentView] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)


def workspace_status(engine: Engine, workspace_id: int, now: datetime, *, bank_data: bool) -> WorkspaceStatus:
    """Return the workspace's status at ``now``; bank accounts, consents and sync claims only with ``bank_data``.

    Raises LookupError when the workspace does not exist.
    """
    with Session(engine) as session:
        workspace = session.get(WorkspaceRecord, workspace_id)
        if workspace is None:
            raise LookupError(f"no workspace {workspace_id}")
        return WorkspaceStatus(
            timezone=workspace.timezone,
            next_syncs=_next_syncs(workspace.sync_times, workspace.timezone, now),
            sources=_sources(session, workspace_id),
            messages=message_counts(session, workspace_id),
            oldest_pending=_oldest_pending_message(session, workspace_id),
            channel_problems=_channel_problems(session, workspace_id),
            operations=_operation_counts(session, workspace_id),
            failed_operations=_failed_operations(session, workspace_id),
            undelivered_events=_undelivered_events(session, workspace_id),
            accounts=_account_syncs(session, workspace_id) if bank_data else [],
            consents=consents(session, workspace_id, now, workspace.timezone) if bank_data else [],
            claims=_sync_claims(session, workspace_id) if bank_data else [],
        )


def _next_syncs(setting: str, timezone: str, now: datetime, count: int = 3) -> list[datetime]:
    """Return the next ``count`` scheduled bank syncs after ``now``, in the workspace's zone ([] for a setting
    that cannot be read: the scheduler skips such a workspace)."""
    try:
        times = sync_times(setting)
    except ValueError:
        return []
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    upcoming: list[datetime] = []
    for offset in range(0, 3):
        day = local.date() + timedelta(days=offset)
        upcoming += [m for m in (datetime.combine(day, t, zone) for t in times) if m > local]
    return sorted(upcoming)[:count]


def _account_syncs(session: Session, workspace_id: int) -> list[AccountSync]:
    """Return every fed bank account of the workspace with how its syncs went (bank data)."""
    query = select(BankAccountRecord).where(
        col(BankAccountRecord.workspace_id) == workspace_id, col(BankAccountRecord.connection_id).is_not(None)
    )
    return [
        AccountSync(
            a.id or 0,
            a.name,
            a.iban,
            a.currency,
            a.connection_id,
            a.last_sync_at,
            a.last_success_at,
            a.last_error,
            a.failing_since,
        )
        for a in session.exec(query.order_by(col(BankAccountRecord.id)))
    ]


def consents(session: Session, workspace_id: int, now: datetime, timezone: str) -> list[ConsentView]:
    """Return the workspace's active and expired connections with their consent end and days left."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    query = select(BankConnectionRecord).where(
        col(BankConnectionRecord.workspace_id) == workspace_id,
        col(BankConnectionRecord.status).in_([ConnectionStatus.ACTIVE, ConnectionStatus.EXPIRED]),
    )
    return [
        ConsentView(
            c.id or 0,
            c.institution_name,
            c.status,
            c.consent_valid_until,
            days_left(c.consent_valid_until, today, timezone) if c.consent_valid_until else None,
        )
        for c in session.exec(query.order_by(col(BankConnectionRecord.id)))
    ]


def _sources(session: Session, workspace_id: int) -> list[SourceSync]:
    query = select(InvoiceSourceRecord).where(col(InvoiceSourceRecord.workspace_id) == workspace_id)
    return [
        SourceSync(s.name, s.last_sync_at, s.last_success_at, s.last_error)
        for s in session.exec(query.order_by(col(InvoiceSourceRecord.name)))
    ]


def message_counts(session: Session, workspace_id: int | None = None) -> dict[str, int]:
    """Return the chat messages per status (every status present, 0 when none)."""
    query = select(ChatMessageRecord.status, func.count()).group_by(col(ChatMessageRecord.status))
    if workspace_id is not None:
        query = query.where(col(ChatMessageRecord.workspace_id) == workspace_id)
    found = {str(s): n for s, n in session.exec(query)}
    return {s.value: found.get(s.value, 0) for s in MessageStatus}


def _oldest_pending_message(session: Session, workspace_id: int) -> datetime | None:
    """Return when the oldest chat message still waiting to be sent was queued (None when none waits)."""
    query = select(func.min(ChatMessageRecord.created_at)).where(
        col(ChatMessageRecord.workspace_id) == workspace_id,
        col(ChatMessageRecord.status).in_([MessageStatus.PENDING, MessageStatus.SENDING]),
        col(ChatMessageRecord.sent_at).is_(None),
    )
    return _aware(session.exec(query).one())


def _channel_problems(session: Session, workspace_id: int) -> list[ChannelProblem]:
    query = select(ChatChannelRecord).where(
        col(ChatChannelRecord.workspace_id) == workspace_id,
        col(ChatChannelRecord.removed_at).is_(None),
        col(ChatChannelRecord.problem) != "",
    )
    return [
        ChannelProblem(c.name or c.address, c.platform.value, c.problem[:300], c.problem_at)
        for c in session.exec(query.order_by(col(ChatChannelRecord.id)))
    ]


def _operation_counts(session: Session, workspace_id: int | None = None) -> dict[str, int]:
    """Return the write-back operations per status (every status present, 0 when none)."""
    query = select(SourceOperationRecord.status, func.count()).group_by(col(SourceOperationRecord.status))
    if workspace_id is not None:
        query = query.where(col(SourceOperationRecord.workspace_id) == workspace_id)
    found = {str(s): n for s, n in session.exec(query)}
    return {s.value: found.get(s.value, 0) for s in OperationStatus}


def _failed_operations(session: Session, workspace_id: int) -> list[FailedOperation]:
    query = select(SourceOperationRecord).where(
        col(SourceOperationRecord.workspace_id) == workspace_id,
        col(SourceOperationRecord.status) == OperationStatus.FAILED,
    )
    query = query.order_by(col(SourceOperationRecord.id).desc()).limit(FAILED_SHOWN)
    return [FailedOperation(o.id or 0, o.source, o.kind.value, o.attempts, o.last_error[:300])
            for o in session.exec(query)]  # fmt: skip


def _undelivered_events(session: Session, workspace_id: int) -> int:
    """Return how many outbox events wait for chat delivery."""
    query = (
        select(func.count())
        .select_from(OutboxEventRecord)
        .where(col(OutboxEventRecord.workspace_id) == workspace_id, col(OutboxEventRecord.delivered_at).is_(None))
    )
    return session.exec(query).one()


def _sync_claims(session: Session, workspace_id: int) -> list[Claim]:
    # Sync claims are keyed ``sync:<connection>:<slot>``; their outcomes name accounts, so they are bank data.
    ids = select(BankConnectionRecord.id).where(col(BankConnectionRecord.workspace_id) == workspace_id)
    keys = [col(JobClaimRecord.key).startswith(f"sync:{i}:") for i in session.exec(ids)]
    if not keys:
        return []
    query = select(JobClaimRecord).where(or_(*keys)).order_by(col(JobClaimRecord.claimed_at).desc())
    return [Claim(c.key, c.owner, c.claimed_at, c.finished_at, c.outcome[:300])
            for c in session.exec(query.limit(RECENT_CLAIMS))]  # fmt: skip


def last_consent_check(engine: Engine) -> Claim | None:
    """Return the latest daily consent check's claim (installation-wide; None before the first)."""
    with Session(engine) as session:
        query = select(JobClaimRecord).where(col(JobClaimRecord.key).startswith("consents:"))
        c = session.exec(query.order_by(col(JobClaimRecord.claimed_at).desc()).limit(1)).first()
        return Claim(c.key, c.owner, c.claimed_at, c.finished_at, c.outcome[:300]) if c else None


def scheduler_lock_held(engine: Engine) -> bool | None:
    """Return whether some process holds the scheduler's lock (None when this database has no lock to hold:
    in-memory SQLite). Only looks: on PostgreSQL at ``pg_locks``; on SQLite by a shared lock taken and
    dropped at once on the lock file (``reconbot.core.services.jobs.scheduler.SchedulerLock``)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            held = connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 "
                    "AND objid = :key AND objsubid = 1"
                ),
                {"key": ADVISORY_LOCK_KEY},
            ).scalar()
        return bool(held)
    database = engine.url.database or ""
    if not database or database == ":memory:":
        return None
    path = Path(database + ".scheduler.lock")
    if not path.exists():
        return False
    with path.open("r") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def _aware(moment: datetime | None) -> datetime | None:
    # An aggregate bypasses the column type: SQLite hands back naive UTC (or text), PostgreSQL aware.
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def local(moment: datetime | None, timezone: str) -> str:
    """Return ``moment`` as ``YYYY-MM-DD HH:MM`` in ``timezone`` ("" for None)."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") if moment else ""


def scheduled_jobs(scheduler: FeedScheduler, workspace_id: int) -> list[tuple[str, datetime | None]]:
    """Return the running scheduler's jobs that concern the workspace (its syncs and the shared jobs), with
    their next run (None: paused), soonest first."""
    jobs = [
        (job.id, getattr(job, "next_run_time", None))  # a job not yet scheduled has none
        for job in scheduler.scheduler.get_jobs()
        if not job.id.startswith("sync:") or job.id.startswith(f"sync:{workspace_id}:")
    ]
    return sorted(jobs, key=lambda j: (j[1] is None, j[1] or datetime.max.replace(tzinfo=UTC), j[0]))
