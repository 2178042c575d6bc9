"""Tables of the web panel's sign-in: login accounts, their browser sessions, login attempts and invitations.

A login account is a person (one e-mail, one password); ``member.account_id`` ties it to the workspaces it
belongs to, with a role in each, so an accountant serving several companies signs in once.
Same conventions as ``reconbot.core.persistence.tables`` (imported from there, so these are in ``metadata``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlmodel import Field

from reconbot.core.persistence.tables import Record, _created_at
from reconbot.core.persistence.types import UTCDateTime


class LoginAccountRecord(Record, table=True):
    """A person who signs in to the panel: the e-mail (lower-cased) and an argon2 hash of the password."""

    __tablename__ = "login_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, sa_type=String(254))
    password_hash: str = Field(sa_type=Text)
    created_at: datetime = _created_at()


class WebSessionRecord(Record, table=True):
    """A signed-in browser. Only a SHA-256 of the cookie's token is stored, so a leaked table opens nothing."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, sa_type=String(64))
    account_id: int = Field(foreign_key="login_account.id", index=True)
    workspace_id: int | None = Field(default=None, foreign_key="workspace.id", index=True)  # the one being viewed
    created_at: datetime = _created_at()
    expires_at: datetime = Field(sa_type=UTCDateTime)


class LoginAttemptRecord(Record, table=True):
    """One sign-in attempt: failures per e-mail and per address in a window decide the throttle."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=String(254))
    address: str = Field(sa_type=String(64))
    succeeded: bool
    at: datetime = Field(sa_type=UTCDateTime)


class MemberInviteRecord(Record, table=True):
    """A one-time link that lets an invited member choose a password (only its SHA-256 is stored)."""

    __tablename__ = "member_invite"

    token_hash: str = Field(primary_key=True, sa_type=String(64))
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created_at()
