"""How far a workspace's setup has come, and what waits for a person: what the panel's home page shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.core.domain import TransactionStatus
from reconbot.core.persistence.bank_tables import BankConnectionRecord, ConnectionStatus
from reconbot.core.persistence.chat_tables import ChatChannelRecord, ChatConnectionRecord, MemberRecord
from reconbot.core.persistence.invoicing_tables import InvoiceSourceRecord
from reconbot.core.persistence.tables import BankTransactionRecord, InvoiceRecord


@dataclass(frozen=True, slots=True)
class SetupProgress:
    banks_active: int
    banks_any: int  # including pending, expired and disconnected ones
    invoicing_sources: int
    invoices: int
    chat_connections: int
    chat_channels: int
    members: int
    unmatched: int
    suggested: int


def setup_progress(engine: Engine, workspace_id: int) -> SetupProgress:
    """Return the workspace's setup steps done and the transactions waiting for a person."""
    with Session(engine) as session:

        def count(model: Any, *where: Any) -> int:
            query = select(func.count()).select_from(model).where(col(model.workspace_id) == workspace_id, *where)
            return int(session.exec(query).one())

        statuses = dict(
            session.exec(
                select(BankTransactionRecord.status, func.count())
                .where(col(BankTransactionRecord.workspace_id) == workspace_id)
                .group_by(col(BankTransactionRecord.status))
            ).all()
        )
        return SetupProgress(
            banks_active=count(BankConnectionRecord, col(BankConnectionRecord.status) == ConnectionStatus.ACTIVE),
            banks_any=count(BankConnectionRecord),
            invoicing_sources=count(InvoiceSourceRecord),
            invoices=count(InvoiceRecord),
            chat_connections=count(ChatConnectionRecord),
            chat_channels=count(ChatChannelRecord, col(ChatChannelRecord.removed_at).is_(None)),
            members=count(MemberRecord, col(MemberRecord.removed_at).is_(None)),
            unmatched=int(statuses.get(TransactionStatus.UNMATCHED, 0)),
            suggested=int(statuses.get(TransactionStatus.SUGGESTED, 0)),
        )
