"""The values an invoicing system hands us and the ones we hand it: plain, provider-independent dataclasses.

Money is ``Decimal`` with its currency everywhere; an invoicing client converts its
wire format to these (and back) and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from reconbot.core.domain import Invoice
from reconbot.core.money import ZERO


class PaymentMethod(StrEnum):
    """How a buyer paid, in reconbot's words; each client says it in its system's vocabulary."""

    TRANSFER = "transfer"
    CASH = "cash"
    CARD = "card"
    PAYPAL = "paypal"


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """Which document of the invoicing system an operation is about: its id there and its number."""

    external_id: str
    number: str


@dataclass(frozen=True, slots=True)
class SourceInvoice:
    """An invoice as the invoicing system knows it.

    ``invoice`` is the domain value (its ``id`` is the system's document id, ``paid`` the
    amount the system shows as paid, ``status`` CANCELLED for a cancelled one);
    ``proforma_id`` names the proforma a final invoice was made from;
    ``external_key`` is reconbot's own idempotency key when reconbot created it.
    """

    invoice: Invoice
    modified_at: datetime | None = None
    proforma_id: str = ""
    external_key: str = ""

    @property
    def ref(self) -> DocumentRef:
        return DocumentRef(self.invoice.id, self.invoice.number)


@dataclass(frozen=True, slots=True)
class InvoicePage:
    """What one incremental pull returned: the invoices changed since the cursor, and the cursor to continue from."""

    invoices: list[SourceInvoice]
    cursor: str


@dataclass(frozen=True, slots=True)
class PaymentEntry:
    """A payment to register on (or remove from) an invoice.

    ``key`` is reconbot's idempotency key (``reconbot-p42``): every client writes it into
    the payment (Billingo's voucher number, Fakturownia's description, Számlázz.hu's
    ``leiras``) so that a retry can tell the payment is already there.
    ``amount`` is a positive magnitude in ``currency`` (the invoice's).
    """

    key: str
    paid_on: date
    amount: Decimal
    currency: str
    method: PaymentMethod = PaymentMethod.TRANSFER
    note: str = ""


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What registering or removing a payment answered.

    ``provider_id`` is the system's id of the payment record where it has one (Fakturownia);
    ``paid_total`` the invoice's paid total afterwards when the system says (None: unknown);
    ``already`` is True when nothing had to change (the payment was there, or gone, already).
    """

    provider_id: str = ""
    paid_total: Decimal | None = None
    already: bool = False


@dataclass(frozen=True, slots=True)
class Buyer:
    """Who an invoice is for, sent inline with it (Számlázz.hu keeps no partner list; Billingo gets one made)."""

    name: str
    email: str = ""
    phone: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    post_code: str = ""
    city: str = ""
    address: str = ""  # street and number
    company_name: str = ""
    tax_number: str = ""

    @property
    def is_company(self) -> bool:
        return bool(self.tax_number)

    @property
    def invoice_name(self) -> str:
        """Return the name the invoice is made out to: the company's when there is one."""
        return self.company_name or self.name


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line of an invoice to issue. ``vat_rate`` is a percentage (27, 23, 0); amounts are line totals."""

    name: str
    quantity: Decimal
    unit: str
    net: Decimal
    vat: Decimal
    gross: Decimal
    vat_rate: Decimal

    @property
    def unit_net(self) -> Decimal:
        return self.net / self.quantity if self.quantity else self.net


@dataclass(frozen=True, slots=True)
class InvoiceOrder:
    """An invoice to issue, provider-independent (built by ``reconbot.core.invoicing.sales``).

    ``external_key`` is reconbot's idempotency key: Billingo's ``vendor_id``, Fakturownia's
    ``oid`` (with ``oid_unique=yes``), Számlázz.hu's ``szamlaKulsoAzon``. ``send_email``
    asks the system to e-mail the invoice to the buyer; ``paid`` issues it as already paid.
    """

    external_key: str
    buyer: Buyer
    lines: tuple[InvoiceLine, ...]
    currency: str
    language: str  # ISO 639-1: hu, pl, en
    method: PaymentMethod
    issue_date: date
    fulfillment_date: date
    due_date: date
    send_email: bool
    paid: bool = True
    comment: str = ""

    @property
    def gross(self) -> Decimal:
        return sum((line.gross for line in self.lines), ZERO)
