"""Small builders for rows the persistence tests need; each flushes so ids are set."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from reconbot.core.domain import Direction
from reconbot.core.persistence.tables import (
    BankAccountRecord,
    BankTransactionRecord,
    InvoiceRecord,
    Language,
    WorkspaceRecord,
)


def add_workspace(session: Session, slug: str = "acme") -> WorkspaceRecord:
    workspace = WorkspaceRecord(slug=slug, name=f"{slug} Kft.", country="HU", language=Language.HU)
    session.add(workspace)
    session.flush()
    return workspace


def add_account(
    session: Session, workspace: WorkspaceRecord, iban: str = "HU42117730161111101800000000"
) -> BankAccountRecord:
    assert workspace.id is not None
    account = BankAccountRecord(workspace_id=workspace.id, iban=iban, currency="HUF", name="Main")
    session.add(account)
    session.flush()
    return account


def add_transaction(
    session: Session,
    account: BankAccountRecord,
    dedupe_key: str = "bank:1",
    amount: Decimal = Decimal("127000"),
) -> BankTransactionRecord:
    assert account.id is not None
    transaction = BankTransactionRecord(
        workspace_id=account.workspace_id,
        bank_account_id=account.id,
        dedupe_key=dedupe_key,
        external_id=dedupe_key.removeprefix("bank:"),
        booking_date=date(2025, 3, 14),
        amount=amount,
        currency=account.currency,
        reference="INV-2025-001",
    )
    session.add(transaction)
    session.flush()
    return transaction


def add_invoice(
    session: Session,
    workspace: WorkspaceRecord,
    number: str = "INV-2025-001",
    *,
    external_id: str | None = None,
    gross: Decimal = Decimal("127000"),
) -> InvoiceRecord:
    assert workspace.id is not None
    invoice = InvoiceRecord(
        workspace_id=workspace.id,
        direction=Direction.ISSUED,
        number=number,
        issue_date=date(2025, 3, 1),
        gross=gross,
        currency="HUF",
        source="csv",
        external_id=external_id,
        natural_key=f"issued:{number}",
    )
    session.add(invoice)
    session.flush()
    return invoice
