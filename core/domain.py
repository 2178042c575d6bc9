"""Plain domain values shared by parsers, the matching engine and the services.

These are framework-free dataclasses; the database tables live in
``reconbot.core.persistence`` and convert to and from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from reconbot.core.money import ZERO
from reconbot.core.parties import name_tokens, tax_key

# The workspace of a single-business install, used when no other is named.
DEFAULT_WORKSPACE = "default"


class Direction(StrEnum):
    """Whether we issued the invoice (a customer owes us) or received it (we owe a supplier)."""

    ISSUED = "issued"
    RECEIVED = "received"


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    PROFORMA = "proforma"
    ADVANCE = "advance"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Transaction:
    """One bank transaction as read from a statement or a bank feed.

    ``amount`` is signed: positive money came in, negative went out.
    ``reference`` is the remittance text; when the bank split it over several
    lines they are kept, joined with ``"\\n"``, because an invoice number may
    be split across them.
    """

    id: str
    booking_date: date
    amount: Decimal
    currency: str
    value_date: date | None = None
    counterparty_name: str = ""
    counterparty_iban: str = ""
    reference: str = ""
    end_to_end_id: str = ""
    structured_reference: str = ""
    # The bank's own unique id (camt AcctSvcrRef, MT940 bank reference, an export's id column);
    # empty when the bank gives none, and then a content key identifies the transaction.
    bank_id: str = ""
    account_iban: str = ""
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice, proforma, advance invoice or credit note, issued or received.

    ``gross`` is negative for credit notes; ``paid`` carries the same sign.
    ``id`` is whatever identifies the invoice to the caller (a database id, or
    the row in an INVOICES.csv file).
    """

    id: str
    number: str
    direction: Direction
    kind: InvoiceKind
    gross: Decimal
    currency: str
    paid: Decimal = ZERO
    status: InvoiceStatus = InvoiceStatus.ISSUED
    partner_name: str = ""
    partner_tax_id: str = ""
    partner_iban: str = ""
    partner_email: str = ""
    order_number: str = ""
    issue_date: date | None = None
    due_date: date | None = None

    @property
    def open_amount(self) -> Decimal:
        """Return what is still to be paid, as a non-negative magnitude (zero when settled or cancelled)."""
        if self.status is InvoiceStatus.CANCELLED:
            return ZERO
        return max(abs(self.gross) - abs(self.paid), ZERO)

    @property
    def flow_sign(self) -> int:
        """Return +1 if settling this invoice brings money in, -1 if it sends money out.

        Issued invoices are paid to us; an issued credit note is a refund we pay.
        Received (supplier) invoices are paid by us; a received credit note is refunded to us.
        """
        sign = 1 if self.direction is Direction.ISSUED else -1
        return sign if self.gross >= 0 else -sign


def due_first(due_date: date | None, issue_date: date | None) -> tuple[date, date]:
    """Return a sort key putting the invoice due first first (then the one issued first; undated last).

    Money that does not cover every invoice of a set goes to them in this order.
    """
    return (due_date or issue_date or date.max, issue_date or date.max)


def status_for(gross: Decimal, paid: Decimal, cancelled: bool = False) -> InvoiceStatus:
    """Return the status that a gross and a paid amount imply."""
    if cancelled:
        return InvoiceStatus.CANCELLED
    if paid == ZERO:
        return InvoiceStatus.ISSUED
    if abs(paid) >= abs(gross):
        return InvoiceStatus.PAID
    return InvoiceStatus.PARTIALLY_PAID


def paid_part(gross: Decimal, amount: Decimal) -> Decimal:
    """Return ``amount`` (a magnitude) as it counts in the paid amount of an invoice of ``gross``.

    Negated for a credit note, whose paid amount is negative like its gross.
    """
    return amount if gross >= ZERO else -amount


class TransactionStatus(StrEnum):
    """Where a stored bank transaction stands in the workbench (MatchStatus plus ``ignored``)."""

    UNMATCHED = "unmatched"
    SUGGESTED = "suggested"
    MATCHED = "matched"
    IGNORED = "ignored"  # a person said it needs no invoice (bank fee, salary, transfer between own accounts)


class AllocationMethod(StrEnum):
    """Who decided an allocation: the matching engine or a person."""

    AUTOMATIC = "automatic"
    MANUAL = "manual"


def natural_key(direction: Direction, number: str, partner_tax_id: str = "", partner_name: str = "") -> str:
    """Return the key that identifies an invoice within a workspace.

    Our own (issued) numbers are unique; suppliers' numbers only per supplier,
    so a received invoice is keyed by its supplier's tax id (else name) too.
    """
    if direction is Direction.ISSUED:
        return f"issued:{number.strip()}"
    partner = tax_key(partner_tax_id) or " ".join(sorted(name_tokens(partner_name)))
    return f"received:{partner}:{number.strip()}"
