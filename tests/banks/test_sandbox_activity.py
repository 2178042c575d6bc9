"""The sandbox bank's payment simulation on its own: invoices and days in, entries out, nothing else read."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from reconbot.core.banks.sandbox_activity import SimulatedAccount, account_activity, opening_balance
from reconbot.core.domain import Direction, Invoice, InvoiceKind, InvoiceStatus

HUF = SimulatedAccount("HU42117730161111101800000000", "HUF", "HU", "HU")
FIRST, LAST = date(2025, 3, 3), date(2025, 5, 30)


def invoice(number: str, gross: str, issued: date, **changes: Any) -> Invoice:
    made = Invoice(
        id=number,
        number=number,
        direction=Direction.ISSUED,
        kind=InvoiceKind.INVOICE,
        gross=Decimal(gross),
        currency="HUF",
        partner_name="Duna Építőipari Kft.",
        partner_tax_id="23456787-2-13",
        issue_date=issued,
    )
    return dataclasses.replace(made, **changes)


INVOICES = [
    invoice(f"SZLA-2025/{k:04d}", f"{k * 10_000 + 635}", date(2025, 3, 10) + timedelta(days=k)) for k in range(1, 25)
]


def test_the_same_inputs_give_the_same_entries_whatever_the_order_or_status() -> None:
    first = account_activity(HUF, INVOICES, FIRST, LAST)
    paid = [dataclasses.replace(i, paid=i.gross, status=InvoiceStatus.PAID) for i in reversed(INVOICES)]
    assert account_activity(HUF, paid, FIRST, LAST) == first
    assert [e.day for e in first] == sorted(e.day for e in first)
    assert len({e.key for e in first}) == len(first)


def test_every_issued_invoice_in_the_account_currency_is_paid_and_nothing_else() -> None:
    others = [
        invoice("EUR-1", "500", date(2025, 3, 12), currency="EUR"),
        invoice("IN-1", "90000", date(2025, 3, 12), direction=Direction.RECEIVED),
        invoice("CN-1", "90000", date(2025, 3, 12), kind=InvoiceKind.CREDIT_NOTE),
        invoice("ZERO-1", "0", date(2025, 3, 12)),
    ]
    entries = account_activity(HUF, INVOICES + others, FIRST, LAST)
    paid = {number for e in entries for number in e.pays}
    assert paid == {i.number for i in INVOICES}
    for e in entries:
        if e.pays:
            assert e.amount > 0 and e.day.weekday() < 5 and e.amount == e.amount.quantize(Decimal(1))


def test_a_window_is_a_slice_of_a_longer_one() -> None:
    whole = account_activity(HUF, INVOICES, FIRST, LAST)
    part = account_activity(HUF, INVOICES, date(2025, 4, 1), date(2025, 4, 15))
    assert part == [e for e in whole if date(2025, 4, 1) <= e.day <= date(2025, 4, 15)]
    assert account_activity(HUF, INVOICES, LAST, FIRST) == []


def test_noise_comes_without_invoices_and_weekends_are_quiet() -> None:
    entries = account_activity(HUF, [], FIRST, LAST)
    assert entries and not any(e.pays for e in entries)
    assert {"card_payment", "bank_fee", "salary", "tax", "utility"} <= {e.scenario for e in entries}
    assert all(e.day.weekday() < 5 for e in entries)


def test_the_opening_balance_belongs_to_the_iban() -> None:
    assert opening_balance(HUF) == opening_balance(dataclasses.replace(HUF, language="PL"))
    assert opening_balance(HUF) != opening_balance(dataclasses.replace(HUF, iban="HU93116000060000000012345676"))
    assert Decimal(18_000_000) <= opening_balance(HUF) <= Decimal(40_000_000)
