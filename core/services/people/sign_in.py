"""Signing in to the panel: the first owner, password rules and hashes (argon2), the login throttle, new passwords.

Every failed sign-in is recorded, and too many for one e-mail or one address in ``THROTTLE_WINDOW`` refuse
further attempts — even with the right password — until the window has passed.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.core.errors import SetupError
from reconbot.core.persistence.account_tables import LoginAccountRecord, LoginAttemptRecord
from reconbot.core.persistence.chat_tables import MemberRecord
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import Language
from reconbot.core.roles import Role
from reconbot.core.services.people.members import add_member_in
from reconbot.core.services.people.sessions import close_sessions_in
from reconbot.core.services.workspaces import ensure_workspace

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


def needs_first_run(engine: Engine) -> bool:
    """Return True until the first login account exists (the panel then offers only first-run setup)."""
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(LoginAccountRecord)).one() == 0


def check_password(password: str) -> None:
    """Raise SetupError when ``password`` is too short to protect bank data."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise SetupError(f"the password needs at least {PASSWORD_MIN_LENGTH} characters")


def hash_password(password: str) -> str:
    """Return the argon2 hash that is stored instead of ``password``."""
    return _hasher.hash(password)


def password_matches(stored: str, password: str) -> bool:
    """Return True when ``password`` is the one whose hash is ``stored`` (False for a damaged hash too)."""
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


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
        account = LoginAccountRecord(email=email, password_hash=hash_password(password))
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
        ok = password_matches(account.password_hash if account else _DUMMY_HASH, password) and account is not None
        session.add(LoginAttemptRecord(email=email, address=address, succeeded=ok, at=now))
        if ok and account is not None and _hasher.check_needs_rehash(account.password_hash):
            account.password_hash = hash_password(password)
        account_id = account.id if ok and account is not None else None
    if account_id is None:
        raise LoginRefused("wrong e-mail or password")
    return account_id


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
        account.password_hash = hash_password(password)
        close_sessions_in(session, account.id)
        return account.id
