"""Panel sessions: who a browser's cookie signs in, the workspaces an account may work in, switching between them.

Cookies carry a random token; the database keeps only its SHA-256, so neither a copied table nor a
log line can open a session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.errors import SetupError
from reconbot.core.persistence.account_tables import LoginAccountRecord, WebSessionRecord
from reconbot.core.persistence.chat_tables import MemberRecord
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import Language, WorkspaceRecord
from reconbot.core.roles import Role

SESSION_LIFETIME = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at the panel: the signed-in account, and their member and role in the current workspace."""

    account_id: int
    email: str
    workspace_id: int
    workspace_name: str
    member_id: int
    member_name: str
    role: Role
    language: Language

    @property
    def actor(self) -> str:
        """Return how the audit log names this person's deeds in the panel: ``web:<email>``."""
        return f"web:{self.email}"


@dataclass(frozen=True, slots=True)
class Membership:
    workspace_id: int
    workspace_name: str
    role: Role


def token_hash(token: str) -> str:
    """Return the stored form of a cookie or invitation token (hex SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def memberships(engine: Engine, account_id: int) -> list[Membership]:
    """Return the workspaces ``account_id`` is a current member of, by name."""
    with Session(engine) as session:
        return _memberships_in(session, account_id)


def _memberships_in(session: Session, account_id: int) -> list[Membership]:
    """``memberships`` inside the caller's transaction."""
    rows = session.exec(
        select(WorkspaceRecord.id, WorkspaceRecord.name, MemberRecord.role)
        .join(MemberRecord, col(MemberRecord.workspace_id) == col(WorkspaceRecord.id))
        .where(col(MemberRecord.account_id) == account_id, col(MemberRecord.removed_at).is_(None))
        .order_by(col(WorkspaceRecord.name))
    ).all()
    return [Membership(w, n, Role(r)) for w, n, r in rows if w is not None]


def open_session(engine: Engine, account_id: int, *, now: datetime, workspace_id: int | None = None) -> str:
    """Return the token of a new session of ``account_id`` in ``workspace_id`` (default: its first workspace)."""
    token = secrets.token_urlsafe(32)
    with session_scope(engine) as session:
        if workspace_id is None:
            found = _memberships_in(session, account_id)
            workspace_id = found[0].workspace_id if found else None
        session.add(WebSessionRecord(token_hash=token_hash(token), account_id=account_id, workspace_id=workspace_id,
                                     created_at=now, expires_at=now + SESSION_LIFETIME))  # fmt: skip
    return token


def viewer_for(engine: Engine, token: str, *, now: datetime) -> Viewer | None:
    """Return who the session ``token`` belongs to, or None when it is unknown, expired, or its member was
    removed from the workspace."""
    with Session(engine) as session:
        row = session.exec(
            select(WebSessionRecord, LoginAccountRecord, MemberRecord, WorkspaceRecord)
            .join(LoginAccountRecord, col(LoginAccountRecord.id) == col(WebSessionRecord.account_id))
            .join(MemberRecord, (col(MemberRecord.account_id) == col(WebSessionRecord.account_id))
                  & (col(MemberRecord.workspace_id) == col(WebSessionRecord.workspace_id)))
            .join(WorkspaceRecord, col(WorkspaceRecord.id) == col(WebSessionRecord.workspace_id))
            .where(col(WebSessionRecord.token_hash) == token_hash(token), col(MemberRecord.removed_at).is_(None))
        ).first()  # fmt: skip
        if row is None:
            return None
        web_session, account, member, workspace = row
        if web_session.expires_at <= now:
            return None
        assert account.id is not None and member.id is not None and workspace.id is not None
        return Viewer(account.id, account.email, workspace.id, workspace.name, member.id, member.name, member.role,
                      workspace.language)  # fmt: skip


def switch_workspace(engine: Engine, token: str, workspace_id: int) -> None:
    """Make ``workspace_id`` the session's current workspace. Raises SetupError when the session is unknown or
    its account is no member there (checked in the transaction that switches, so a removal cannot slip between)."""
    with session_scope(engine) as session:
        query = select(WebSessionRecord).where(col(WebSessionRecord.token_hash) == token_hash(token))
        web_session = session.exec(query).first()
        mine = {m.workspace_id for m in _memberships_in(session, web_session.account_id)} if web_session else set()
        if web_session is None or workspace_id not in mine:
            raise SetupError("you are not a member of that workspace")
        web_session.workspace_id = workspace_id


def close_session(engine: Engine, token: str) -> None:
    """Forget the session ``token`` (signing out); unknown tokens are ignored."""
    with session_scope(engine) as session:
        for row in session.exec(select(WebSessionRecord).where(col(WebSessionRecord.token_hash) == token_hash(token))):
            session.delete(row)


def close_sessions_in(session: Session, account_id: int) -> int:
    """Sign every browser of ``account_id`` out, inside the caller's transaction; return how many sessions ended."""
    ended = 0
    for web_session in session.exec(select(WebSessionRecord).where(col(WebSessionRecord.account_id) == account_id)):
        session.delete(web_session)
        ended += 1
    return ended
