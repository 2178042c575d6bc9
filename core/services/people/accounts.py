"""Signing in to the panel: the first owner, passwords (argon2), sessions, the login throttle, invitations.

Cookies carry a random token; the database keeps only its SHA-256, so neither a copied table nor a
log line can open a session. Every failed sign-in is recorded, and too many for one e-mail or one
address in ``THROTTLE_WINDOW`` refuse further attempts — even with the right password — until the
window has passed.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.core.errors import SetupError
from reconbot.core.persistence.account_tables import (
    LoginAccountRecord,
    LoginAttemptRecord,
    MemberInviteRecord,
    WebSessionRecord,
)
from reconbot.core.persistence.chat_tables import MemberRecord
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import Language, WorkspaceRecord
from reconbot.core.roles import Role
from reconbot.core.services.events import audit
from reconbot.core.services.people.members import add_member_in
from reconbot.core.services.workspaces import ensure_workspace

SESSION_LIFETIME = timedelta(days=14)
INVITE_LIFETIME = timedelta(days=7)
THROTTLE_WINDOW = timedelta(minutes=15)
FAILURES_PER_EMAIL = 5
FAILURES_PER_ADDRESS = 20
PASSWORD_MIN_LENGTH = 10

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a wrong e-mail takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("reconbot: no such account")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class LoginRefused(SetupError):
    """Wrong e-mail or password (the message never says which)."""


class LoginThrottled(SetupError):
    """Too many failed attempts; ``retry_after`` is how many seconds until the next may be made."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        super().__init__(f"too many failed sign-ins; try again in {minutes} minute{'s' if minutes > 1 else ''}")


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


@dataclass(frozen=True, slots=True)
class Invitation:
    workspace_id: int
    workspace_name: str
    member_name: str
    email: str
    has_account: bool  # the e-mail already signs in (to another workspace): they confirm with that password


def token_hash(token: str) -> str:
    """Return the stored form of a cookie or invitation token (hex SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def needs_first_run(engine: Engine) -> bool:
    """Return True until the first login account exists (the panel then offers only first-run setup)."""
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(LoginAccountRecord)).one() == 0


def check_password(password: str) -> None:
    """Raise SetupError when ``password`` is too short to protect bank data."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise SetupError(f"the password needs at least {PASSWORD_MIN_LENGTH} characters")


def normal_email(email: str) -> str:
    """Return ``email`` trimmed and lower-cased. Raises SetupError when it does not look like an address."""
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise SetupError(f"{email or 'an empty e-mail'!r} is not an e-mail address")
    return email


def first_run(
    engine: Engine,
    *,
    email: str,
    password: str,
    owner_name: str,
    workspace_name: str,
    country: str,
    timezone: str,
    currency: str,
    language: Language,
) -> int:
    """Create the first login account, its workspace (or take over the CLI's workspace of that name) and make
    it the owner; return the account id. Raises SetupError when setup was already done or a field is wrong."""
    email = normal_email(email)
    check_password(password)
    if not workspace_name.strip():
        raise SetupError("the workspace needs a name")
    slug = _slug(workspace_name)
    with session_scope(engine) as session:
        if session.exec(select(func.count()).select_from(LoginAccountRecord)).one():
            raise SetupError("reconbot is already set up; sign in instead")
        workspace = ensure_workspace(session, slug, name=workspace_name.strip(), country=country, currency=currency,
                                     language=language)  # fmt: skip
        workspace.name, workspace.country, workspace.currency = workspace_name.strip(), country, currency
        workspace.language, workspace.timezone = language, timezone
        account = LoginAccountRecord(email=email, password_hash=_hasher.hash(password))
        session.add(account)
        session.flush()
        assert workspace.id is not None and account.id is not None
        member = add_member_in(
            session, workspace.id, owner_name or email, Role.OWNER, actor=f"web:{email}", email=email
        )
        session.get_one(MemberRecord, member.id).account_id = account.id
        return account.id


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40] or "workspace"


def authenticate(engine: Engine, email: str, password: str, *, address: str, now: datetime) -> int:
    """Return the account id of ``email`` when ``password`` is right; every attempt is recorded.

    Raises LoginThrottled when too many attempts failed lately (checked first, so a right password does not
    help), LoginRefused when the e-mail or password is wrong.
    """
    email = email.strip().lower()[:254]
    address = address[:64]
    since = now - THROTTLE_WINDOW
    with session_scope(engine) as session:
        for column, value, limit in ((LoginAttemptRecord.email, email, FAILURES_PER_EMAIL),
                                     (LoginAttemptRecord.address, address, FAILURES_PER_ADDRESS)):  # fmt: skip
            failures = session.exec(
                select(LoginAttemptRecord.at)
                .where(col(column) == value, col(LoginAttemptRecord.at) > since, ~col(LoginAttemptRecord.succeeded))
                .order_by(col(LoginAttemptRecord.at))
            ).all()
            if len(failures) >= limit:
                oldest_counted = failures[len(failures) - limit]
                raise LoginThrottled(math.ceil((oldest_counted + THROTTLE_WINDOW - now).total_seconds()))
        account = session.exec(select(LoginAccountRecord).where(col(LoginAccountRecord.email) == email)).first()
        ok = _verify(account.password_hash if account else _DUMMY_HASH, password) and account is not None
        session.add(LoginAttemptRecord(email=email, address=address, succeeded=ok, at=now))
        if ok and account is not None and _hasher.check_needs_rehash(account.password_hash):
            account.password_hash = _hasher.hash(password)
    if not ok or account is None or account.id is None:
        raise LoginRefused("wrong e-mail or password")
    return account.id


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def memberships(engine: Engine, account_id: int) -> list[Membership]:
    """Return the workspaces ``account_id`` is a current member of, by name."""
    with Session(engine) as session:
        rows = session.exec(
            select(WorkspaceRecord.id, WorkspaceRecord.name, MemberRecord.role)
            .join(MemberRecord, col(MemberRecord.workspace_id) == col(WorkspaceRecord.id))
            .where(col(MemberRecord.account_id) == account_id, col(MemberRecord.removed_at).is_(None))
            .order_by(col(WorkspaceRecord.name))
        ).all()
    return [Membership(w, n, Role(r)) for w, n, r in rows if w is not None]


def open_session(engine: Engine, account_id: int, *, now: datetime, workspace_id: int | None = None) -> str:
    """Return the token of a new session of ``account_id`` in ``workspace_id`` (default: its first workspace)."""
    if workspace_id is None:
        found = memberships(engine, account_id)
        workspace_id = found[0].workspace_id if found else None
    token = secrets.token_urlsafe(32)
    with session_scope(engine) as session:
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
    """Make ``workspace_id`` the session's current workspace. Raises SetupError when the account is no member."""
    query = select(WebSessionRecord).where(col(WebSessionRecord.token_hash) == token_hash(token))
    with Session(engine) as session:
        found = session.exec(query).first()
    if found is None or workspace_id not in {m.workspace_id for m in memberships(engine, found.account_id)}:
        raise SetupError("you are not a member of that workspace")
    with session_scope(engine) as session:
        for web_session in session.exec(query):
            web_session.workspace_id = workspace_id


def close_session(engine: Engine, token: str) -> None:
    """Forget the session ``token`` (signing out); unknown tokens are ignored."""
    with session_scope(engine) as session:
        for row in session.exec(select(WebSessionRecord).where(col(WebSessionRecord.token_hash) == token_hash(token))):
            session.delete(row)


def invite(
    engine: Engine, workspace_id: int, name: str, email: str, role: Role, *, actor: str, now: datetime
) -> tuple[int, str]:
    """Add a member who will sign in with ``email``; return their member id and the invitation token
    (valid ``INVITE_LIFETIME``, once). Raises SetupError for a bad e-mail or a name already in use."""
    email = normal_email(email)
    with session_scope(engine) as session:
        taken = session.exec(
            select(MemberRecord.name).where(col(MemberRecord.workspace_id) == workspace_id,
                                            col(MemberRecord.email) == email, col(MemberRecord.removed_at).is_(None))
        ).first()  # fmt: skip
        if taken is not None:
            raise SetupError(f"{email} already belongs to the member {taken}")
        member = add_member_in(session, workspace_id, name, role, actor=actor, email=email)
        return member.id, _new_invite(session, workspace_id, member.id, now)


def reinvite(engine: Engine, workspace_id: int, member_id: int, *, actor: str, now: datetime) -> str:
    """Return a fresh invitation token for an existing member who has an e-mail (a lost password, an expired link),
    audited as ``actor``'s. Raises SetupError when the member is unknown or has no e-mail."""
    with session_scope(engine) as session:
        member = session.get(MemberRecord, member_id)
        if member is None or member.workspace_id != workspace_id or member.removed_at is not None:
            raise SetupError(f"there is no member {member_id}")
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
        authenticate(engine, found.email, password, address=address, now=now)
    with session_scope(engine) as session:
        invite_row, member, _, account = _open_invite(session, token, now, lock=True)
        if account is None:
            check_password(password)
            account = LoginAccountRecord(email=member.email, password_hash=_hasher.hash(password))
            session.add(account)
            session.flush()
        elif not _verify(account.password_hash, password):
            raise LoginRefused("that is not the password of your existing reconbot account")
        member.account_id = account.id
        invite_row.used_at = now
        assert account.id is not None
        return account.id


def set_password(engine: Engine, email: str, password: str) -> int:
    """Give the account of ``email`` a new password and sign all its browsers out; return the account id.

    Raises SetupError when there is no such account or the password is too short.
    """
    check_password(password)
    with session_scope(engine) as session:
        account = session.exec(
            select(LoginAccountRecord).where(col(LoginAccountRecord.email) == email.strip().lower())
        ).first()
        if account is None or account.id is None:
            raise SetupError(f"no account signs in with {email.strip()!r}")
        account.password_hash = _hasher.hash(password)
        for web_session in session.exec(select(WebSessionRecord).where(col(WebSessionRecord.account_id) == account.id)):
            session.delete(web_session)
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
