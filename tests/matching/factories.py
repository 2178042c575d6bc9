"""Small builders for invoices and transactions in matching tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from reconbot.core.domain import Direction, Invoice, InvoiceKind, InvoiceStatus, Transaction, status_for

_ids = count(1)
DAY0 = date(2025, 5, 1)


def inv(
    number: str,
    gross: str,
    *,
    partner: str = "Kovács és Társa Kft.",
    tax_id: str = "",
    iban: str = "",
    currency: str = "HUF",
    direction: Direction = Direction.ISSUED,
    kind: InvoiceKind = InvoiceKind.INVOICE,
    paid: str = "0",
    cancelled: bool = False,
    order: str = "",
    due: int = 8,
    issued: int = 0,
) -> Invoice:
    """Return an invoice; dates count days from 2025-05-01."""
    g, p = Decimal(gross), Decimal(paid)
    return Invoice(
        id=f"inv{next(_ids)}",
        number=number,
        direction=direction,
        kind=kind,
        gross=g,
        currency=currency,
        paid=p,
        status=InvoiceStatus.CANCELLED if cancelled else status_for(g, p),
        partner_name=partner,
        partner_tax_id=tax_id,
        partner_iban=iban,
        order_number=order,
        issue_date=DAY0 + timedelta(days=issued),
        due_date=DAY0 + timedelta(days=due),
    )


def tx(
    amount: str,
    reference: str = "",
    *,
    name: str = "",
    iban: str = "",
    currency: str = "HUF",
    day: int = 10,
    e2e: str = "",
    structured: str = "",
    id: str | None = None,
) -> Transaction:
    """Return a transaction booked ``day`` days after 2025-05-01."""
    return Transaction(
        id=id or f"tx{next(_ids)}",
        booking_date=DAY0 + timedelta(days=day),
        amount=Decimal(amount),
        currency=currency,
        counterparty_name=name,
        counterparty_iban=iban,
        reference=reference,
        end_to_end_id=e2e,
        structured_reference=structured,
    )
