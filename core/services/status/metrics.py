"""The installation's numbers for monitoring (``/metrics``): read fresh on every scrape, a few grouped queries,
labelled by workspace slug and ids only (no names, IBANs or amounts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.core.domain import Direction, InvoiceStatus, TransactionStatus
from reconbot.core.persistence.bank_tables import BankConnectionRecord, ConnectionStatus
from reconbot.core.persistence.chat_tables import ChatMessageRecord, MessageStatus
from reconbot.core.persistence.invoicing_tables import OperationStatus, SourceOperationRecord
from reconbot.core.persistence.tables import BankAccountRecord, BankTransactionRecord, InvoiceRecord, WorkspaceRecord
from reconbot.core.services.banks.consents import days_left

OPEN_INVOICE = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


@dataclass
class Snapshot:
    """Each metric as ``{label values: value}``; label tuples start with the workspace slug."""

    transactions: dict[tuple[str, str], int] = field(default_factory=dict)  # (workspace, status)
    open_invoices: dict[tuple[str, str], int] = field(default_factory=dict)  # (workspace, direction)
    chat_messages: dict[tuple[str, str], int] = field(default_factory=dict)  # (workspace, status)
    oldest_pending_chat_seconds: dict[tuple[str], float] = field(default_factory=dict)  # (workspace,)
    operations: dict[tuple[str, str], int] = field(default_factory=dict)  # (workspace, status)
    connections: dict[tuple[str, str], int] = field(default_factory=dict)  # (workspace, status)
    since_last_sync_seconds: dict[tuple[str, str], float] = field(default_factory=dict)  # (workspace, account id)
    consent_days_left: dict[tuple[str, str], int] = field(default_factory=dict)  # (workspace, connection id)


def snapshot(engine: Engine, now: datetime) -> Snapshot:
    """Return the installation's current numbers at ``now``.

    Accounts that never synced successfully and connections without a consent end have no value (Prometheus
    treats a missing series as unknown, which a 0 would hide).
    """
    found = Snapshot()
    with Session(engine) as session:
        workspaces = {w.id: w for w in session.exec(select(WorkspaceRecord))}
        slug = {i: w.slug for i, w in workspaces.items()}

        def counts(target: dict[tuple[str, str], int], values: Any, column: Any, workspace: Any, *where: Any) -> None:
            # Every workspace gets every label value, 0 when none: an alert on "failed > 0" needs the series.
            target.update({(name, str(v)): 0 for name in slug.values() for v in values})
            query = select(workspace, column, func.count()).where(*where).group_by(workspace, column)
            for workspace_id, status, count in session.execute(query):
                if workspace_id in slug:
                    target[(slug[workspace_id], str(status))] = count

        counts(
            found.transactions,
            TransactionStatus,
            col(BankTransactionRecord.status),
            col(BankTransactionRecord.workspace_id),
        )
        counts(found.open_invoices, Direction, col(InvoiceRecord.direction), col(InvoiceRecord.workspace_id),
               col(InvoiceRecord.status).in_(OPEN_INVOICE))  # fmt: skip
        counts(found.chat_messages, MessageStatus, col(ChatMessageRecord.status), col(ChatMessageRecord.workspace_id))
        counts(
            found.operations,
            OperationStatus,
            col(SourceOperationRecord.status),
            col(SourceOperationRecord.workspace_id),
        )
        counts(
            found.connections,
            ConnectionStatus,
            col(BankConnectionRecord.status),
            col(BankConnectionRecord.workspace_id),
        )
        waiting = select(ChatMessageRecord.workspace_id, func.min(ChatMessageRecord.created_at)).where(
            col(ChatMessageRecord.status).in_([MessageStatus.PENDING, MessageStatus.SENDING]),
            col(ChatMessageRecord.sent_at).is_(None),
        )
        for workspace_id, oldest in session.exec(waiting.group_by(col(ChatMessageRecord.workspace_id))):
            if workspace_id in slug and oldest is not None:
                found.oldest_pending_chat_seconds[(slug[workspace_id],)] = _seconds(now, oldest)
        fed = select(BankAccountRecord).where(col(BankAccountRecord.connection_id).is_not(None))
        for account in session.exec(fed):
            if account.last_success_at is not None and account.workspace_id in slug:
                key = (slug[account.workspace_id], str(account.id))
                found.since_last_sync_seconds[key] = _seconds(now, account.last_success_at)
        active = select(BankConnectionRecord).where(
            col(BankConnectionRecord.status) == ConnectionStatus.ACTIVE,
            col(BankConnectionRecord.consent_valid_until).is_not(None),
        )
        for connection in session.exec(active):
            workspace = workspaces.get(connection.workspace_id)
            if workspace is not None and connection.consent_valid_until is not None:
                today = now.astimezone(ZoneInfo(workspace.timezone)).date()
                key = (workspace.slug, str(connection.id))
                found.consent_days_left[key] = days_left(connection.consent_valid_until, today, workspace.timezone)
    return found


def _seconds(now: datetime, then: datetime | str) -> float:
    # An aggregate bypasses the column type: SQLite hands back naive UTC text, PostgreSQL an aware datetime.
    moment = datetime.fromisoformat(then) if isinstance(then, str) else then
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return max(0.0, (now - moment).total_seconds())
