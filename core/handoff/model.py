"""What is handed to the accountant: an invoice (or advance invoice) with its settlements, or one settlement.

Plain values built from the stored rows by ``reconbot.core.services.handoff.sending``; each receiver turns
them into its own form (JSON, CSV, an e-mail).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from reconbot.core.money import format_amount

INVOICE_COLUMNS = ("number", "kind", "partner_name", "partner_tax_id", "issue_date", "due_date", "gross",
                   "currency", "paid_amount", "status")  # fmt: skip
SETTLEMENT_COLUMNS = ("settlement_id", "invoice_number", "paid_on", "amount", "currency", "payer", "payer_iban",
                      "reference", "transaction_id")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Settlement:
    """A payment matched to an invoice (one allocation): how much of which bank transaction, on which day."""

    allocation_id: int
    transaction_id: int
    invoice_number: str
    paid_on: date
    amount: Decimal
    currency: str
    payer: str
    payer_iban: str
    reference: str

    def as_json(self) -> dict[str, Any]:
        return {"settlement_id": self.allocation_id, "invoice_number": self.invoice_number,
                "paid_on": self.paid_on.isoformat(), "amount": format_amount(self.amount), "currency": self.currency,
                "payer": self.payer, "payer_iban": self.payer_iban, "reference": self.reference,
                "transaction_id": self.transaction_id}  # fmt: skip


@dataclass(frozen=True, slots=True)
class HandedInvoice:
    """An issued invoice or advance invoice as the accountant books it, with the settlements known so far."""

    id: int
    number: str
    kind: str
    partner_name: str
    partner_tax_id: str
    issue_date: date
    due_date: date | None
    gross: Decimal
    currency: str
    paid_amount: Decimal
    status: str
    settlements: tuple[Settlement, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "kind": self.kind, "partner_name": self.partner_name,
                "partner_tax_id": self.partner_tax_id, "issue_date": self.issue_date.isoformat(),
                "due_date": self.due_date.isoformat() if self.due_date else "", "gross": format_amount(self.gross),
                "currency": self.currency, "paid_amount": format_amount(self.paid_amount),
                "status": self.status}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Document:
    """One document to hand over. ``item_id`` is the idempotency key: the same document always carries the same
    one, however often a crash makes it go out again; ``kind`` is invoice, advance or settlement."""

    item_id: int
    workspace_id: int
    workspace_name: str
    kind: str
    marked_at: datetime
    invoice: HandedInvoice
    settlement: Settlement | None = None
    pdf: bytes | None = field(default=None, repr=False)  # the invoice's archived PDF, when there is one

    @property
    def idempotency_key(self) -> str:
        return f"reconbot-w{self.workspace_id}-handoff-{self.item_id}"

    def as_json(self) -> dict[str, Any]:
        """Return the document as the webhook and the export folder carry it."""
        body: dict[str, Any] = {"id": self.idempotency_key, "type": self.kind, "business": self.workspace_name,
                                "invoice": self.invoice.as_json()}  # fmt: skip
        if self.settlement is not None:
            body["settlement"] = self.settlement.as_json()
        else:
            body["invoice"]["settlements"] = [s.as_json() for s in self.invoice.settlements]
        return body

    def invoice_csv(self) -> str:
        """Return the invoice as a one-row CSV (header first): its summary, sent beside the PDF when there is one."""
        row = self.invoice.as_json()
        return to_csv(INVOICE_COLUMNS, [row])

    def settlements_csv(self) -> str:
        """Return the settlements this document is about (the one, or all of the invoice's so far) as CSV."""
        settlements = (self.settlement,) if self.settlement is not None else self.invoice.settlements
        return to_csv(SETTLEMENT_COLUMNS, [s.as_json() for s in settlements])


def to_csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    """Return ``rows`` as CSV text with a header of ``columns`` (comma separated, CRLF line ends, UTF-8 text)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def file_name(number: str) -> str:
    """Return an invoice number fit for a file name (``INV/2026/1`` → ``INV-2026-1``)."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in number).strip(".") or "invoice"
