"""Workspaces: the business whose books are reconciled; every service works inside one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.domain import DEFAULT_WORKSPACE
from reconbot.core.errors import ReconciliationError
from reconbot.core.persistence.bulk import insert_unless_present
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import InvoicingMode, Language, WorkspaceRecord, utcnow


def ensure_workspace(
    session: Session,
    slug: str = DEFAULT_WORKSPACE,
    *,
    name: str | None = None,
    country: str = "HU",
    currency: str = "HUF",
    language: Language = Language.EN,
) -> WorkspaceRecord:
    """Return the workspace ``slug``, creating it with the given settings when it does not exist yet.

    Two processes creating the same workspace at once both get the one row.
    """
    query = select(WorkspaceRecord).where(col(WorkspaceRecord.slug) == slug)
    workspace = session.exec(query).first()
    if workspace is None:
        values = {
            "slug": slug,
            "name": name or slug,
            "country": country,
            "currency": currency,
            "language": language,
            "timezone": "Europe/Budapest",
            "auto_match": True,
            "created_at": utcnow(),
        }
        insert_unless_present(session, WorkspaceRecord, values, ["slug"])
        workspace = session.exec(query).one()
    return workspace


def lock_workspace(session: Session, workspace_id: int) -> WorkspaceRecord:
    """Return the workspace, holding its row lock until the transaction ends.

    Every change to a workspace's allocations takes this lock first, so two
    workers, two button presses or an import and a pairing never interleave:
    each sees the other's result. (On SQLite the transaction already holds the
    database's write lock; on PostgreSQL this is ``SELECT … FOR UPDATE``.)
    Raises ReconciliationError when there is no such workspace.
    """
    query = select(WorkspaceRecord).where(col(WorkspaceRecord.id) == workspace_id).with_for_update()
    workspace = session.exec(query).first()
    if workspace is None:
        raise ReconciliationError(f"workspace {workspace_id} does not exist")
    return workspace


@dataclass(frozen=True, slots=True)
class Workspace:
    """A workspace's settings as everything outside the services reads them (a copy, not a live row)."""

    id: int
    slug: str
    name: str
    country: str
    currency: str
    language: Language
    timezone: str
    auto_match: bool
    amount_tolerance: Decimal
    sync_times: str
    consent_reminder_days: str
    feed_history_days: int
    proforma_mode: InvoicingMode
    sale_mode: InvoicingMode
    sale_invoicing_source: str
    vat_rate: Decimal | None

    @property
    def zone(self) -> ZoneInfo:
        """Return the workspace's time zone."""
        return ZoneInfo(self.timezone)

    def today(self, now: datetime) -> date:
        """Return the workspace's local date at the moment ``now``."""
        return now.astimezone(self.zone).date()


def workspace_of(record: WorkspaceRecord) -> Workspace:
    """Return the settings of a stored workspace row, detached from its session."""
    assert record.id is not None
    return Workspace(
        record.id, record.slug, record.name, record.country, record.currency, record.language, record.timezone,
        record.auto_match, record.amount_tolerance, record.sync_times, record.consent_reminder_days,
        record.feed_history_days, record.proforma_mode, record.sale_mode, record.sale_invoicing_source,
        record.vat_rate,
    )  # fmt: skip


def workspace(engine: Engine, workspace_id: int) -> Workspace:
    """Return the workspace ``workspace_id``. Raises ReconciliationError when there is none."""
    with Session(engine) as session:
        record = session.get(WorkspaceRecord, workspace_id)
        if record is None:
            raise ReconciliationError(f"workspace {workspace_id} does not exist")
        return workspace_of(record)


def language_of(engine: Engine, workspace_id: int) -> str:
    """Return the workspace's language code, "en" when there is no such workspace (chat answers a stranger)."""
    with Session(engine) as session:
        return language_of_in(session, workspace_id)


def language_of_in(session: Session, workspace_id: int) -> str:
    """``language_of`` inside the caller's transaction."""
    record = session.get(WorkspaceRecord, workspace_id)
    return record.language.value if record is not None else "en"


def open_workspace(engine: Engine, slug: str = DEFAULT_WORKSPACE, **settings: Any) -> Workspace:
    """Return the workspace ``slug``, creating it with ``settings`` (those of ``ensure_workspace``) if need be."""
    with session_scope(engine) as session:
        return workspace_of(ensure_workspace(session, slug, **settings))
