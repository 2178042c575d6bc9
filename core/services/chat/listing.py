"""What the chat commands show, as neutral facts: waiting transactions, status, balances, whether an invoice is paid.

Each function is one read of the database; the handlers put the facts in words. Who may see the bank
data among them is decided by the caller's ``Caller.bank_data`` (``reconbot.core.services.chat.subscribing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.core.errors import ReconciliationError
from reconbot.core.persistence.bank_tables import BankBalanceRecord, BankConnectionRecord, ConnectionStatus
from reconbot.core.persistence.chat_tables import ChatChannelRecord
from reconbot.core.persistence.tables import AllocationRecord, BankAccountRecord, BankTransactionRecord, WorkspaceRecord
from reconbot.core.services.banks.consents import days_left
from reconbot.core.services.chat.questions import WAITING
from reconbot.core.services.invoicing.lookup import invoice_numbered


@dataclass(frozen=True, slots=True)
class TransactionLine:
    """A transaction as a list shows it: ``amount`` signed, ``counterparty`` the name, else the IBAN, else ""."""

    booking_date: date
    amount: Decimal
    currency: str
    counterparty: str
    reference: str


@dataclass(frozen=True, slots=True)
class WaitingTransactions:
    """How many transactions wait for a person, and the largest of them (largest first)."""

    count: int
    largest: tuple[TransactionLine, ...]


def waiting_transactions(engine: Engine, workspace_id: int, *, limit: int = 10) -> WaitingTransactions:
    """Return the booked transactions waiting for a person: their count and the ``limit`` largest amounts."""
    with Session(engine) as session:
        count = _waiting_count(session, workspace_id)
        query = select(BankTransactionRecord).where(*_waiting(workspace_id))
        largest = session.exec(query.order_by(func.abs(col(BankTransactionRecord.amount)).desc()).limit(limit))
        lines = tuple(TransactionLine(tx.booking_date, tx.amount, tx.currency,
                                      tx.counterparty_name or tx.counterparty_iban, tx.reference)
                      for tx in largest)  # fmt: skip
    return WaitingTransactions(count, lines)


def _waiting(workspace_id: int) -> tuple[Any, ...]:
    return (
        col(BankTransactionRecord.workspace_id) == workspace_id,
        col(BankTransactionRecord.status).in_(WAITING),
        col(BankTransactionRecord.pending).is_(False),
    )


def _waiting_count(session: Session, workspace_id: int) -> int:
    query = select(func.count()).select_from(BankTransactionRecord).where(*_waiting(workspace_id))
    return int(session.exec(query).one())


@dataclass(frozen=True, slots=True)
class AccountSync:
    """An account and when it last synced successfully, in the workspace's time (None: never)."""

    account: str
    last_success: datetime | None


@dataclass(frozen=True, slots=True)
class ConsentEnd:
    """An active bank connection's consent: its last day (the workspace's date) and the days left."""

    bank: str
    valid_until: date
    days_left: int


@dataclass(frozen=True, slots=True)
class ChannelProblem:
    """A channel the bot cannot post to, and why."""

    channel: str
    problem: str


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """The workspace's state: ``unmatched`` is None unless bank data was asked for."""

    accounts: tuple[AccountSync, ...]
    consents: tuple[ConsentEnd, ...]
    unmatched: int | None
    channel_problems: tuple[ChannelProblem, ...]


def status_facts(engine: Engine, workspace_id: int, now: datetime, *, bank_data: bool) -> StatusFacts:
    """Return each account's last sync, the consents of active connections, channel problems, and with
    ``bank_data`` the count of waiting transactions. Raises ReconciliationError for an unknown workspace."""
    with Session(engine) as session:
        workspace = session.get(WorkspaceRecord, workspace_id)
        if workspace is None:
            raise ReconciliationError(f"workspace {workspace_id} does not exist")
        zone = ZoneInfo(workspace.timezone)
        accounts = tuple(
            AccountSync(a.name or a.iban or f"#{a.id}", a.last_success_at and a.last_success_at.astimezone(zone))
            for a in _accounts(session, workspace_id)
        )
        today = now.astimezone(zone).date()
        active = select(BankConnectionRecord).where(
            col(BankConnectionRecord.workspace_id) == workspace_id,
            col(BankConnectionRecord.status) == ConnectionStatus.ACTIVE,
        )
        consents = tuple(
            ConsentEnd(c.institution_name, c.consent_valid_until.astimezone(zone).date(),
                       days_left(c.consent_valid_until, today, workspace.timezone))
            for c in session.exec(active)
            if c.consent_valid_until is not None
        )  # fmt: skip
        unmatched = _waiting_count(session, workspace_id) if bank_data else None
        troubled = select(ChatChannelRecord).where(
            col(ChatChannelRecord.workspace_id) == workspace_id,
            col(ChatChannelRecord.removed_at).is_(None),
            col(ChatChannelRecord.problem) != "",
        )
        problems = tuple(ChannelProblem(c.name or c.address, c.problem) for c in session.exec(troubled))
    return StatusFacts(accounts, consents, unmatched, problems)


def _accounts(session: Session, workspace_id: int) -> list[BankAccountRecord]:
    query = select(BankAccountRecord).where(col(BankAccountRecord.workspace_id) == workspace_id)
    return list(session.exec(query))


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's latest balance as the bank reported it."""

    account: str
    amount: Decimal
    currency: str
    reference_date: date


def latest_balances(engine: Engine, workspace_id: int) -> list[Balance]:
    """Return each account's latest reported balance (accounts without one are left out)."""
    balances: list[Balance] = []
    with Session(engine) as session:
        for account in _accounts(session, workspace_id):
            query = select(BankBalanceRecord).where(col(BankBalanceRecord.bank_account_id) == account.id)
            latest = session.exec(
                query.order_by(col(BankBalanceRecord.reference_date).desc(), col(BankBalanceRecord.fetched_at).desc())
            ).first()
            if latest is not None:
                label = account.name or account.iban or f"#{account.id}"
                balances.append(Balance(label, latest.amount, latest.currency, latest.reference_date))
    return balances


@dataclass(frozen=True, slots=True)
class Payment:
    """A live pairing that paid an invoice: the payer (name, else IBAN, else "") and the booking date."""

    payer: str
    booking_date: date


@dataclass(frozen=True, slots=True)
class InvoicePayment:
    """How much of an invoice is paid (magnitudes); ``payments`` only when bank data was asked for."""

    number: str
    partner: str
    paid: Decimal
    gross: Decimal
    currency: str
    due_date: date | None
    payments: tuple[Payment, ...]


def invoice_payment(engine: Engine, workspace_id: int, number: str, *, bank_data: bool) -> InvoicePayment | None:
    """Return whether the invoice ``number`` (as a person types it) is paid, and with ``bank_data`` by whom;
    None when the workspace has no such invoice."""
    with Session(engine) as session:
        invoice = invoice_numbered(session, workspace_id, number)
        if invoice is None:
            return None
        payments: tuple[Payment, ...] = ()
        if bank_data and invoice.paid_amount:
            live = (
                select(BankTransactionRecord)
                .join(AllocationRecord, col(AllocationRecord.transaction_id) == col(BankTransactionRecord.id))
                .where(col(AllocationRecord.invoice_id) == invoice.id, col(AllocationRecord.undone_at).is_(None))
            )
            paid_by = session.exec(live.order_by(col(BankTransactionRecord.booking_date)))
            payments = tuple(Payment(tx.counterparty_name or tx.counterparty_iban, tx.booking_date) for tx in paid_by)
        return InvoicePayment(invoice.number, invoice.partner_name, abs(invoice.paid_amount), abs(invoice.gross),
                              invoice.currency, invoice.due_date, payments)  # fmt: skip
