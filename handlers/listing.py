"""What the commands show: unmatched transactions, status, balances, whether an invoice is paid.

Each function reads the database once and returns a neutral ``Message`` in the workspace's language.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from reconbot.core.domain import TransactionStatus
from reconbot.core.persistence.bank_tables import BankBalanceRecord, BankConnectionRecord, ConnectionStatus
from reconbot.core.persistence.chat_tables import ChatChannelRecord
from reconbot.core.persistence.tables import (
    AllocationRecord,
    BankAccountRecord,
    BankTransactionRecord,
    WorkspaceRecord,
)
from reconbot.core.services.banks.consents import days_left
from reconbot.core.services.invoicing.lookup import invoice_numbered
from reconbot.handlers.context import Chat
from reconbot.handlers.messages import Message
from reconbot.handlers.texts import money, text

WAITING = (TransactionStatus.UNMATCHED, TransactionStatus.SUGGESTED)


def unmatched_list(chat: Chat, language: str, *, limit: int = 10) -> Message:
    """Return the transactions waiting for a person, largest first (``limit`` of them, and how many more)."""
    with Session(chat.engine) as session:
        waiting = _waiting(chat.workspace_id)
        count = session.exec(select(func.count()).select_from(BankTransactionRecord).where(*waiting)).one()
        if not count:
            return Message(title=text(language, "unmatched.none"))
        query = select(BankTransactionRecord).where(*waiting)
        largest = session.exec(query.order_by(func.abs(col(BankTransactionRecord.amount)).desc()).limit(limit))
        lines = [_transaction_line(tx, language) for tx in largest]
    if count > limit:
        lines.append(text(language, "unmatched.more", count=count - limit))
    return Message(title=text(language, "unmatched.list_title", count=count), lines=tuple(lines))


def _waiting(workspace_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        col(BankTransactionRecord.workspace_id) == workspace_id,
        col(BankTransactionRecord.status).in_(WAITING),
        col(BankTransactionRecord.pending).is_(False),
    )


def _transaction_line(tx: BankTransactionRecord, language: str) -> str:
    amount = money(tx.amount, tx.currency, language)
    parts = [tx.booking_date.isoformat(), amount, tx.counterparty_name or tx.counterparty_iban, tx.reference]
    return " · ".join(p for p in parts if p)[:300]


def status(chat: Chat, language: str, *, bank_data: bool) -> Message:
    """Return the last sync per account, consents ending soon, channel problems and (for bank roles) the
    unmatched count."""
    with Session(chat.engine) as session:
        workspace = session.get(WorkspaceRecord, chat.workspace_id)
        assert workspace is not None
        zone = ZoneInfo(workspace.timezone)
        lines: list[str] = []
        accounts = session.exec(
            select(BankAccountRecord).where(col(BankAccountRecord.workspace_id) == chat.workspace_id)
        ).all()
        for account in accounts:
            name = account.name or account.iban or f"#{account.id}"
            when = _local(account.last_success_at, zone) if account.last_success_at else text(language, "status.never")
            lines.append(text(language, "status.account", account=name, when=when))
        if not accounts:
            lines.append(text(language, "status.no_accounts"))
        today = chat.clock().astimezone(zone).date()
        active = select(BankConnectionRecord).where(
            col(BankConnectionRecord.workspace_id) == chat.workspace_id,
            col(BankConnectionRecord.status) == ConnectionStatus.ACTIVE,
        )
        for connection in session.exec(active):
            if connection.consent_valid_until is not None:
                left = days_left(connection.consent_valid_until, today, workspace.timezone)
                date = connection.consent_valid_until.astimezone(zone).date().isoformat()
                lines.append(text(language, "status.consent", bank=connection.institution_name, date=date, days=left))
        if bank_data:
            count = session.exec(
                select(func.count()).select_from(BankTransactionRecord).where(*_waiting(chat.workspace_id))
            ).one()
            lines.append(text(language, "status.unmatched", count=count))
        troubled = select(ChatChannelRecord).where(
            col(ChatChannelRecord.workspace_id) == chat.workspace_id,
            col(ChatChannelRecord.removed_at).is_(None),
            col(ChatChannelRecord.problem) != "",
        )
        for channel in session.exec(troubled):
            where = channel.name or channel.address
            lines.append(text(language, "status.channel_problem", channel=where, problem=channel.problem[:200]))
    return Message(title=text(language, "status.title"), lines=tuple(lines))


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def balances(chat: Chat, language: str) -> Message:
    """Return each account's latest balance as the bank reported it."""
    with Session(chat.engine) as session:
        accounts = session.exec(
            select(BankAccountRecord).where(col(BankAccountRecord.workspace_id) == chat.workspace_id)
        ).all()
        fields: list[tuple[str, str]] = []
        for account in accounts:
            query = select(BankBalanceRecord).where(col(BankBalanceRecord.bank_account_id) == account.id)
            latest = session.exec(
                query.order_by(col(BankBalanceRecord.reference_date).desc(), col(BankBalanceRecord.fetched_at).desc())
            ).first()
            if latest is not None:
                label = account.name or account.iban or f"#{account.id}"
                value = f"{money(latest.amount, latest.currency, language)} ({latest.reference_date.isoformat()})"
                fields.append((label, value))
    if not fields:
        return Message(title=text(language, "balance.title"), lines=(text(language, "balance.none"),))
    return Message(title=text(language, "balance.title"), fields=tuple(fields[:10]))


def invoice_paid(chat: Chat, language: str, number: str, *, bank_data: bool) -> Message:
    """Return whether invoice ``number`` is paid; with ``bank_data`` also who paid it and when."""
    number = number.strip()
    with Session(chat.engine) as session:
        invoice = invoice_numbered(session, chat.workspace_id, number)
        if invoice is None:
            return Message(title=text(language, "paid.unknown", number=number[:60]))
        values = {
            "number": invoice.number,
            "partner": invoice.partner_name or "?",
            "paid": money(abs(invoice.paid_amount), invoice.currency, language),
            "gross": money(abs(invoice.gross), invoice.currency, language),
            "due": invoice.due_date.isoformat() if invoice.due_date else "—",
        }
        if invoice.paid_amount == 0:
            key = "paid.no"
        elif abs(invoice.paid_amount) >= abs(invoice.gross):
            key = "paid.yes"
        else:
            key = "paid.partly"
        lines: list[str] = []
        if bank_data and invoice.paid_amount:
            live = (
                select(BankTransactionRecord)
                .join(AllocationRecord, col(AllocationRecord.transaction_id) == col(BankTransactionRecord.id))
                .where(col(AllocationRecord.invoice_id) == invoice.id, col(AllocationRecord.undone_at).is_(None))
            )
            for tx in session.exec(live.order_by(col(BankTransactionRecord.booking_date))):
                payer = tx.counterparty_name or tx.counterparty_iban or "?"
                lines.append(text(language, "paid.by", payer=payer, date=tx.booking_date.isoformat()))
    return Message(title=text(language, key, **values), lines=tuple(lines))
