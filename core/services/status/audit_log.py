"""Reading the audit trail: a workspace's events newest first, filtered, in pages that stay fast however long
the trail grows (keyset paging on ``ix_audit_event_workspace_created``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, func, or_
from sqlmodel import Session, col, select

from reconbot.core.persistence.tables import AuditEventRecord, WorkspaceRecord

PAGE_SIZE = 50
# Data keys whose values are never shown, should a service ever record one (none does: credential saves audit
# the field names only).
_SECRET_WORDS = ("secret", "token", "password", "credential", "api_key", "apikey", "private")


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the viewer asked for: actions starting with ``action``, actors containing ``actor``, and the local
    days ``since``..``until`` (inclusive)."""

    action: str = ""
    actor: str = ""
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime  # in the workspace's time zone
    actor: str
    action: str
    entity_type: str
    entity_id: str
    summary: str


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: str | None  # where the next (older) page starts; None on the last page
    timezone: str  # the workspace's, which ``entries`` are shown in


def audit_page(
    engine: Engine, workspace_id: int, wanted: AuditFilter, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> AuditPage:
    """Return the workspace's audit events matching ``wanted``, newest first, starting after ``cursor``; times
    and days are the workspace's local ones.

    Raises ValueError when ``cursor`` is not one this function handed out.
    """
    with Session(engine) as session:
        workspace = session.get(WorkspaceRecord, workspace_id)
        zone = ZoneInfo(workspace.timezone if workspace else "UTC")
    conditions: list[Any] = [col(AuditEventRecord.workspace_id) == workspace_id]
    if wanted.action:
        conditions.append(col(AuditEventRecord.action).startswith(wanted.action, autoescape=True))
    if wanted.actor:
        conditions.append(func.lower(col(AuditEventRecord.actor)).contains(wanted.actor.lower(), autoescape=True))
    if wanted.since is not None:
        conditions.append(col(AuditEventRecord.created_at) >= _start_of(wanted.since, zone))
    if wanted.until is not None and wanted.until < date.max:
        conditions.append(col(AuditEventRecord.created_at) < _start_of(wanted.until + timedelta(days=1), zone))
    if cursor:
        at, last_id = parse_cursor(cursor)
        conditions.append(
            or_(
                col(AuditEventRecord.created_at) < at,
                and_(col(AuditEventRecord.created_at) == at, col(AuditEventRecord.id) < last_id),
            )
        )
    query = (
        select(AuditEventRecord)
        .where(*conditions)
        .order_by(col(AuditEventRecord.created_at).desc(), col(AuditEventRecord.id).desc())
        .limit(limit + 1)
    )
    with Session(engine) as session:
        rows = list(session.exec(query))
    more = len(rows) > limit
    rows = rows[:limit]
    entries = [
        AuditEntry(
            r.id or 0, r.created_at.astimezone(zone), r.actor, r.action, r.entity_type, r.entity_id, _summarize(r.data)
        )
        for r in rows
    ]
    next_cursor = _make_cursor(rows[-1].created_at, rows[-1].id or 0) if more and rows else None
    return AuditPage(entries, next_cursor, zone.key)


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _make_cursor(at: datetime, event_id: int) -> str:
    """Return the paging cursor that points just past the event (``at`` in UTC, and its id)."""
    return f"{at.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%f')}_{event_id}"


def parse_cursor(cursor: str) -> tuple[datetime, int]:
    """Return the moment and id a cursor names; raises ValueError for anything else."""
    moment, _, event_id = cursor.partition("_")
    if not event_id.isdigit() or len(event_id) > 18:
        raise ValueError(f"not a page cursor: {cursor[:40]!r}")
    return datetime.strptime(moment, "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC), int(event_id)


def _summarize(data: dict[str, Any], *, width: int = 200) -> str:
    """Return ``data`` as one short ``key=value`` line, values of secret-sounding keys masked."""
    parts = []
    for key, value in data.items():
        if any(word in key.lower() for word in _SECRET_WORDS) and key.lower() != "fields":
            shown = "•••"
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = str(value)
        parts.append(f"{key}={shown}")
    line = "; ".join(parts)
    return line if len(line) <= width else line[: width - 1] + "…"
