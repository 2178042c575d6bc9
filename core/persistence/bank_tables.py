"""Tables of the bank feeds: provider credentials, connections, consents, balances, and job claims.

Same conventions as ``reconbot.core.persistence.tables`` (imported from there, so these are in ``metadata``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlmodel import Field

from reconbot.core.persistence.tables import Record, _created_at, _currency, utcnow
from reconbot.core.persistence.types import Money, StrEnumType, UTCDateTime


class ConnectionStatus(StrEnum):
    PENDING = "pending"  # waiting for the owner to finish at the bank
    ACTIVE = "active"
    EXPIRED = "expired"  # the consent ended; renewing makes it active again
    DISCONNECTED = "disconnected"  # the owner stopped it; its transactions stay
    REFUSED = "refused"  # the first consent was never granted


class ConsentAttemptStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"


class BankProviderRecord(Record, table=True):
    """A workspace's credentials for one provider, encrypted (``reconbot.core.encryption.seal``)."""

    __tablename__ = "bank_provider"
    __table_args__ = (UniqueConstraint("workspace_id", "provider"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    provider: str
    credentials: str = Field(sa_type=Text)  # sealed JSON; never store or log it in the clear
    created_at: datetime = _created_at()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow})


class BankConnectionRecord(Record, table=True):
    """One bank connected through a provider; its accounts are ``bank_account`` rows pointing here.

    ``consent_reference``/``consent_valid_until`` describe the consent in force; each
    attempt to grant one (first connect, renewals) is a ``bank_consent`` row.
    """

    __tablename__ = "bank_connection"
    __table_args__ = (Index("ix_bank_connection_workspace_status", "workspace_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    provider: str
    institution_id: str
    institution_name: str
    country: str = Field(sa_type=String(2))
    status: ConnectionStatus = Field(default=ConnectionStatus.PENDING, sa_type=StrEnumType(ConnectionStatus))
    history_days: int = 7
    consent_reference: str | None = None
    consent_valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str
    created_at: datetime = _created_at()
    connected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disconnected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BankConsentRecord(Record, table=True):
    """One request for a consent: the ``state`` our callback receives names it."""

    __tablename__ = "bank_consent"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    connection_id: int = Field(foreign_key="bank_connection.id", index=True)
    state: str = Field(unique=True)  # unguessable; the bank hands it back on the redirect
    start_reference: str
    url: str = Field(sa_type=Text)  # the bank's consent page
    status: ConsentAttemptStatus = Field(
        default=ConsentAttemptStatus.PENDING, sa_type=StrEnumType(ConsentAttemptStatus)
    )
    requested_until: datetime = Field(sa_type=UTCDateTime)
    error: str = ""
    created_at: datetime = _created_at()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BankBalanceRecord(Record, table=True):
    """An account's balance of one kind on one day, as the bank reported it (the latest report wins)."""

    __tablename__ = "bank_balance"
    __table_args__ = (UniqueConstraint("bank_account_id", "kind", "reference_date"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    bank_account_id: int = Field(foreign_key="bank_account.id")
    kind: str
    amount: Decimal = Field(sa_type=Money)
    currency: str = _currency()
    reference_date: date
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JobClaimRecord(Record, table=True):
    """A unit of scheduled work taken by one process: its unique ``key`` is what makes the work happen once.

    A claim left unfinished by a crashed process may be taken over after a while
    (see ``reconbot.core.services.jobs.claims``); the work itself is idempotent, so that is safe.
    """

    __tablename__ = "job_claim"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    owner: str  # host:pid of the process that took it
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str = Field(default="", sa_type=Text)
