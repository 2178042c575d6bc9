"""The rows the archive tests file PDFs for: issued invoices, and payments of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine

from reconbot.core.domain import AllocationMethod, Direction, InvoiceKind
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import AllocationRecord, BankAccountRecord, BankTransactionRecord, InvoiceRecord

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Books:
    """Writes the invoices (and payments) whose PDFs the tests archive."""

    engine: Engine
    workspace_id: int

    def invoice(self, number: str, *, kind: InvoiceKind = InvoiceKind.INVOICE, issued: date = date(2026, 3, 1),
                partner: str = "Zöld Kert Bt.", gross: str = "127000") -> int:  # fmt: skip
        with session_scope(self.engine) as session:
            record = InvoiceRecord(workspace_id=self.workspace_id, direction=Direction.ISSUED, kind=kind,
                                   number=number, partner_name=partner, partner_tax_id="12345678-2-13",
                                   issue_date=issued, gross=Decimal(gross), currency="HUF", source="csv",
                                   natural_key=f"issued:{number}")  # fmt: skip
            session.add(record)
            session.flush()
            assert record.id is not None
            return record.id

    def payment(self, invoice_id: int, amount: str) -> int:
        """Book a transaction paying the invoice; return the transaction's id."""
        with session_scope(self.engine) as session:
            account = BankAccountRecord(workspace_id=self.workspace_id, iban="HU42117730161111101800000000",
                                        currency="HUF")  # fmt: skip
            session.add(account)
            session.flush()
            assert account.id is not None
            transaction = BankTransactionRecord(workspace_id=self.workspace_id, bank_account_id=account.id,
                                                dedupe_key=f"t{invoice_id}", external_id=f"t{invoice_id}",
                                                booking_date=date(2026, 3, 5), amount=Decimal(amount),
                                                currency="HUF")  # fmt: skip
            session.add(transaction)
            session.flush()
            assert transaction.id is not None
            session.add(AllocationRecord(workspace_id=self.workspace_id, transaction_id=transaction.id,
                                         invoice_id=invoice_id, amount=Decimal(amount), currency="HUF",
                                         method=AllocationMethod.MANUAL, created_by="cli:test"))  # fmt: skip
            return transaction.id
