"""The archive's rules: which invoice kinds are archived as soon as their PDF arrives, and which wait for approval.

Stored per workspace in ``archive_settings``; without a row the defaults apply (invoices, advance
invoices and credit notes at once, proformas after approval).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.domain import InvoiceKind
from reconbot.core.errors import ReconciliationError
from reconbot.core.persistence.archive_tables import DEFAULT_AUTO_KINDS, ArchiveSettingsRecord
from reconbot.core.persistence.database import session_scope
from reconbot.core.services.events import audit


def archive_rules(engine: Engine, workspace_id: int) -> frozenset[InvoiceKind]:
    """Return the invoice kinds the workspace archives without approval."""
    with Session(engine) as session:
        return auto_kinds(session, workspace_id)


def set_archive_rules(engine: Engine, workspace_id: int, auto_kinds: Iterable[InvoiceKind | str], *, actor: str,
                      now: datetime) -> frozenset[InvoiceKind]:  # fmt: skip
    """Archive ``auto_kinds`` at once from now on, every other kind after approval; return the new rule.
    Raises ReconciliationError for a kind that does not exist. Versions already waiting keep waiting."""
    try:
        kinds = frozenset(InvoiceKind(k) for k in auto_kinds)
    except ValueError:
        raise ReconciliationError(f"the kinds are {', '.join(k.value for k in InvoiceKind)}") from None
    with session_scope(engine) as session:
        record = session.exec(
            select(ArchiveSettingsRecord).where(col(ArchiveSettingsRecord.workspace_id) == workspace_id)
        ).first()
        if record is None:
            record = ArchiveSettingsRecord(workspace_id=workspace_id, created_at=now)
            session.add(record)
        record.auto_kinds, record.updated_by, record.updated_at = sorted(k.value for k in kinds), actor, now
        session.flush()
        audit(session, workspace_id, actor, "archive.rules_saved", "archive_settings", record.id,
              auto_kinds=record.auto_kinds)  # fmt: skip
    return kinds


def auto_kinds(session: Session, workspace_id: int) -> frozenset[InvoiceKind]:
    """Return the kinds archived without approval, read in ``session`` (the defaults when none were saved)."""
    stored = session.exec(
        select(ArchiveSettingsRecord.auto_kinds).where(col(ArchiveSettingsRecord.workspace_id) == workspace_id)
    ).first()
    if stored is None:
        return frozenset(DEFAULT_AUTO_KINDS)
    return frozenset(InvoiceKind(k) for k in stored if k in InvoiceKind._value2member_map_)
