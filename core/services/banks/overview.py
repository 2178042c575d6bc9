"""What the panel's bank page shows: the workspace's connections with their consents, accounts and balances,
and which provider credentials are stored (masked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.banks.provider import PROVIDERS, provider_class
from reconbot.core.encryption import mask, unseal
from reconbot.core.errors import SecretKeyError
from reconbot.core.persistence.bank_tables import (
    BankBalanceRecord,
    BankConnectionRecord,
    BankProviderRecord,
    ConnectionStatus,
)
from reconbot.core.persistence.tables import BankAccountRecord, WorkspaceRecord
from reconbot.core.services.banks.consents import days_left

# Credential fields shown as they are: they name things, they open nothing.
_PLAIN_FIELDS = frozenset({"base_url", "application_id"})


@dataclass(frozen=True, slots=True)
class AccountView:
    account_id: int
    iban: str
    name: str
    currency: str
    balance: Decimal | None
    balance_currency: str
    balance_kind: str
    last_sync_at: datetime | None
    last_success_at: datetime | None
    last_error: str


@dataclass(frozen=True, slots=True)
class ConnectionView:
    connection_id: int
    provider: str
    bank: str
    status: ConnectionStatus
    valid_until: datetime | None
    days_left: int | None  # None while no consent was granted
    accounts: list[AccountView]

    @property
    def last_sync_at(self) -> datetime | None:
        """Return the latest sync of any of its accounts, or None."""
        return max((a.last_sync_at for a in self.accounts if a.last_sync_at), default=None)

    @property
    def last_error(self) -> str:
        """Return the first account error, or ""."""
        return next((a.last_error for a in self.accounts if a.last_error), "")

    @property
    def may_sync(self) -> bool:
        return self.status is ConnectionStatus.ACTIVE

    @property
    def may_renew(self) -> bool:
        return self.status in (ConnectionStatus.ACTIVE, ConnectionStatus.EXPIRED)


@dataclass(frozen=True, slots=True)
class StoredCredentials:
    """A provider's stored credentials as they may be shown: every secret masked."""

    provider: str
    fields: dict[str, str]
    updated_at: datetime


def connection_views(engine: Engine, workspace_id: int, now: datetime) -> list[ConnectionView]:
    """Return the workspace's bank connections, newest first, with accounts and their latest balances."""
    with Session(engine) as session:
        workspace = session.get(WorkspaceRecord, workspace_id)
        zone = workspace.timezone if workspace else "UTC"
        today = now.astimezone(ZoneInfo(zone)).date()
        connections = session.exec(
            select(BankConnectionRecord)
            .where(col(BankConnectionRecord.workspace_id) == workspace_id)
            .order_by(col(BankConnectionRecord.id).desc())
        ).all()
        accounts = session.exec(
            select(BankAccountRecord).where(
                col(BankAccountRecord.workspace_id) == workspace_id, col(BankAccountRecord.connection_id).is_not(None)
            )
        ).all()
        balances: dict[int, BankBalanceRecord] = {}
        for balance in session.exec(
            select(BankBalanceRecord)
            .where(col(BankBalanceRecord.workspace_id) == workspace_id)
            .order_by(col(BankBalanceRecord.reference_date), col(BankBalanceRecord.fetched_at))
        ):
            balances[balance.bank_account_id] = balance  # the latest one wins
        views = []
        for c in connections:
            assert c.id is not None
            mine = [_account(a, balances.get(a.id or 0)) for a in accounts if a.connection_id == c.id]
            left = days_left(c.consent_valid_until, today, zone) if c.consent_valid_until else None
            views.append(
                ConnectionView(c.id, c.provider, c.institution_name, c.status, c.consent_valid_until, left, mine)
            )
        return views


def _account(a: BankAccountRecord, balance: BankBalanceRecord | None) -> AccountView:
    assert a.id is not None
    return AccountView(
        a.id,
        a.iban or a.provider_uid,
        a.name,
        a.currency,
        balance.amount if balance else None,
        balance.currency if balance else a.currency,
        balance.kind if balance else "",
        a.last_sync_at,
        a.last_success_at,
        a.last_error,
    )


def connection_of(engine: Engine, workspace_id: int, connection_id: int) -> BankConnectionRecord | None:
    """Return the connection when it belongs to the workspace, else None (another workspace's is "not found")."""
    with Session(engine) as session:
        connection = session.get(BankConnectionRecord, connection_id)
        if connection is None or connection.workspace_id != workspace_id:
            return None
        session.expunge(connection)
        return connection


def stored_credentials(engine: Engine, workspace_id: int) -> list[StoredCredentials]:
    """Return the providers whose credentials the workspace stored, with every secret value masked."""
    with Session(engine) as session:
        records = session.exec(
            select(BankProviderRecord).where(col(BankProviderRecord.workspace_id) == workspace_id)
        ).all()
    found = []
    for record in records:
        try:
            values = unseal(record.credentials)
        except SecretKeyError:
            values = {}  # stored with another key: shown as unreadable, set again to fix
        shown = {key: value if key in _PLAIN_FIELDS else mask(value) for key, value in values.items()}
        found.append(StoredCredentials(record.provider, shown, record.updated_at))
    return found


def providers_needing_credentials() -> list[str]:
    """Return the bank providers that need credentials before a bank can be connected through them."""
    return [name for name in PROVIDERS if provider_class(name).credential_fields]
