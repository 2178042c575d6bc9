"""What the panel's bank page and ``reconbot bank list`` show: the workspace's connections with their consents,
accounts and balances, and which provider credentials are stored (masked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

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
    balance_date: date | None = None  # the day the balance was reported for


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
            select(BankAccountRecord)
            .where(
                col(BankAccountRecord.workspace_id) == workspace_id, col(BankAccountRecord.connection_id).is_not(None)
            )
            .order_by(col(BankAccountRecord.id))
        ).all()
        balances: dict[int, BankBalanceRecord] = {}
        for balance in session.exec(
            select(BankBalanceRecord)
            .where(col(BankBalanceRecord.workspace_id) == workspace_id)
            # Kinds fetched together tie: the first the bank listed wins, as in chat and `reconbot bank list`.
            .order_by(
                col(BankBalanceRecord.reference_date),
                col(BankBalanceRecord.fetched_at),
                col(BankBalanceRecord.id).desc(),
            )
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
        balance.reference_date if balance else None,
    )


def active_connection_ids(engine: Engine, workspace_id: int) -> list[int]:
    """Return the ids of the workspace's active bank connections (those that sync), oldest first."""
    with Session(engine) as session:
        query = select(BankConnectionRecord.id).where(
            col(BankConnectionRecord.workspace_id) == workspace_id,
            col(BankConnectionRecord.status) == ConnectionStatus.ACTIVE,
        )
        return [i for i in session.exec(query.order_by(col(BankConnectionRecord.id))) if i is not None]


@dataclass(frozen=True, slots=True)
class ConnectionSummary:
    """One connection as a page checks it: whose it is, through which provider, and whether any of its accounts
    was ever synced."""

    connection_id: int
    workspace_id: int
    provider: str
    institution_name: str
    status: ConnectionStatus
    ever_synced: bool


def connection_of(engine: Engine, workspace_id: int, connection_id: int) -> ConnectionSummary | None:
    """Return the connection when it belongs to the workspace, else None (another workspace's is "not found")."""
    with Session(engine) as session:
        connection = session.get(BankConnectionRecord, connection_id)
        if connection is None or connection.workspace_id != workspace_id:
            return None
        synced = select(BankAccountRecord.id).where(
            col(BankAccountRecord.connection_id) == connection_id, col(BankAccountRecord.last_sync_at).is_not(None)
        )
        return ConnectionSummary(connection_id, workspace_id, connection.provider, connection.institution_name,
                                 connection.status, session.exec(synced).first() is not None)  # fmt: skip


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
