"""Invitations: a one-time link (valid ``INVITE_LIFETIME``) that lets a new member choose a password, or an
existing account join another workspace by confirming its own. Only the link's SHA-256 is stored."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.errors import SetupError
from reconbot.core.persistence.account_tables import LoginAccountRecord, MemberInviteRecord
from reconbot.core.persistence.chat_tables import MemberRecord
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import WorkspaceRecord
from reconbot.core.roles import Role
from reconbot.core.services.events import audit
from reconbot.core.services.people.members import add_member_in, check_owner_rule
from reconbot.core.services.people.sessions import token_hash
from reconbot.core.services.people.sign_in import (
    LoginRefused,
    authenticate,
    check_password,
    hash_password,
    normal_email,
    password_matches,
)

INVITE_LIFETIME = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Invitation:
    workspace_id: int
    workspace_name: str
    member_name: str
    email: str
    has_account: bool  # the e-mail already signs in (to another workspace): they confirm with that password


def invite(
    engine: Engine,
    workspace_id: int,
    name: str,
    email: str,
    role: Role,
    *,
    actor: str,
    now: datetime,
    acting: Role | None = None,
) -> tuple[int, str]:
    """Add a member who will sign in with ``email``; return their member id and the invitation token
    (valid ``INVITE_LIFETIME``, once). ``acting`` is the role of the person inviting (None: the server's
    operator), held to ``check_owner_rule``. Raises SetupError for a bad e-mail, a name already in use, or an
    owner invited by someone who is not one."""
    email = normal_email(email)
    if acting is not None:
        check_owner_rule(acting, role)
    with session_scope(engine) as session:
        taken = session.exec(
            select(MemberRecord.name).where(col(MemberRecord.workspace_id) == workspace_id,
                                            col(MemberRecord.email) == email, col(MemberRecord.removed_at).is_(None))
        ).first()  # fmt: skip
        if taken is not None:
            raise SetupError(f"{email} already belongs to the member {taken}")
        member = add_member_in(session, workspace_id, name, role, actor=actor, email=email)
        return member.id, _new_invite(session, workspace_id, member.id, now)


def reinvite(
    engine: Engine, workspace_id: int, member_id: int, *, actor: str, now: datetime, acting: Role | None = None
) -> str:
    """Return a fresh invitation token for an existing member who has an e-mail (a lost password, an expired link),
    audited as ``actor``'s. ``acting`` is the role of the person asking (None: the server's operator): whoever
    holds the link signs in as the member, so only an owner may get an owner's.

    Raises SetupError when the member is unknown, is an owner and ``acting`` is not, has no e-mail, or already
    signs in.
    """
    with session_scope(engine) as session:
        member = session.get(MemberRecord, member_id)
        if member is None or member.workspace_id != workspace_id or member.removed_at is not None:
            raise SetupError(f"there is no member {member_id}")
        if acting is not None and acting is not Role.OWNER and member.role is Role.OWNER:
            raise SetupError("only an owner may get an owner's sign-in link")
        if not member.email:
            raise SetupError(f"{member.name} has no e-mail address to sign in with")
        if member.account_id is not None:
            # A link that let someone choose a new password for an existing account would let an admin of one
            # workspace take over a person who also works for others; the server's operator resets it instead.
            raise SetupError(f"{member.name} already signs in; a forgotten password is set anew on the server with "
                             f"`reconbot members password {member.email}`")  # fmt: skip
        audit(session, workspace_id, actor, "member.sign_in_link_issued", "member", member_id)
        return _new_invite(session, workspace_id, member_id, now)


def _new_invite(session: Session, workspace_id: int, member_id: int, now: datetime) -> str:
    token = secrets.token_urlsafe(24)
    session.add(MemberInviteRecord(token_hash=token_hash(token), workspace_id=workspace_id, member_id=member_id,
                                   expires_at=now + INVITE_LIFETIME, created_at=now))  # fmt: skip
    return token


def invitation(engine: Engine, token: str, *, now: datetime) -> Invitation:
    """Return what the invitation ``token`` is for. Raises SetupError when it is unknown, used or expired."""
    with Session(engine) as session:
        _, member, workspace, account = _open_invite(session, token, now)
        assert workspace.id is not None
        return Invitation(workspace.id, workspace.name, member.name, member.email, account is not None)


def accept_invite(engine: Engine, token: str, password: str, *, now: datetime, address: str = "") -> int:
    """Use the invitation ``token``: create the member's login account with ``password`` (or, when the e-mail
    already has one, sign in with that password, throttled like any sign-in); return the account id.

    Raises SetupError (LoginRefused for a wrong existing password, LoginThrottled after too many) and leaves the
    invitation unused on any error.
    """
    found = invitation(engine, token, now=now)
    if found.has_account:
        # Its own transaction: a wrong password's attempt must stay recorded for the throttle.
        authenticate(engine, found.email, password, address=address, now=now)
    with session_scope(engine) as session:
        invite_row, member, _, account = _open_invite(session, token, now, lock=True)
        if account is None:
            check_password(password)
            account = LoginAccountRecord(email=member.email, password_hash=hash_password(password))
            session.add(account)
            session.flush()
        elif not password_matches(account.password_hash, password):
            raise LoginRefused("that is not the password of your existing reconbot account")
        member.account_id = account.id
        invite_row.used_at = now
        assert account.id is not None
        return account.id


def _open_invite(
    session: Session, token: str, now: datetime, *, lock: bool = False
) -> tuple[MemberInviteRecord, MemberRecord, WorkspaceRecord, LoginAccountRecord | None]:
    query = select(MemberInviteRecord).where(col(MemberInviteRecord.token_hash) == token_hash(token))
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise SetupError("this invitation link is not valid (used, expired or mistyped); ask for a new one")
    member = session.get(MemberRecord, row.member_id)
    workspace = session.get(WorkspaceRecord, row.workspace_id)
    if member is None or member.removed_at is not None or workspace is None:
        raise SetupError("this invitation was withdrawn")
    account = session.exec(select(LoginAccountRecord).where(col(LoginAccountRecord.email) == member.email)).first()
    return row, member, workspace, account
