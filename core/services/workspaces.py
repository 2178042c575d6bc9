"""Workspaces: the business whose books are reconciled; every service works inside one."""

from __future__ import annotations

from sqlmodel import Session, col, select

from core.domain import DEFAULT_WORKSPACE
from core.errors import ReconciliationError
from core.persistence.bulk import insert_unless_present
from core.persistence.tables import Language, WorkspaceRecord, utcnow


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
