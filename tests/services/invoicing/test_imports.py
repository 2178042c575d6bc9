"""Importing invoice lists: matched with the payments already stored, updated keeping what reconbot paid, refused
when an update would strand reconbot's pairings, nothing half-stored on bad input."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from reconbot.core.domain import InvoiceStatus
from reconbot.core.errors import InputError
from reconbot.core.persistence.tables import InvoiceRecord, MatchSuggestionRecord
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.invoicing.imports import import_invoices
from tests.support.books import INVOICES_HEADER, STATEMENT_HEADER, count, invoice

Write = Callable[[str, str], Path]


def test_an_invoice_list_that_fails_stores_nothing(engine: Engine, acme_workspace: int, write: Write) -> None:
    good = "E-1-2025-1,issued,invoice,A Kft.,,,,2025-03-01,2025-03-09,1000,HUF,0,issued\n"
    bad = "E-1-2025-2,issued,invoice,B Kft.,,,,2025-03-01,2025-03-09,12.5.0,HUF,0,issued\n"
    with pytest.raises(InputError, match=r"invoices.csv: line 3: gross_amount"):
        import_invoices(engine, acme_workspace, write("invoices.csv", INVOICES_HEADER + good + bad), actor="test")
    assert count(engine, InvoiceRecord) == 0


def test_invoices_arriving_after_the_payment_get_matched(engine: Engine, acme_workspace: int, write: Write) -> None:
    statement = write("s.csv", STATEMENT_HEADER + "T1,2025-03-05,2025-03-05,48000,HUF,ALFA KFT,,szla A-2025-77,\n")
    first = import_statement(engine, acme_workspace, statement, actor="test")
    assert first.matching.unmatched == 1
    invoices = write("i.csv", INVOICES_HEADER + "A-2025-77,issued,invoice,Alfa Kft.,,,,2025-03-01,,48000,HUF,,\n")
    later = import_invoices(engine, acme_workspace, invoices, actor="test")
    assert later.matching.matched == 1
    assert invoice(engine, "A-2025-77").status is InvoiceStatus.PAID
    assert count(engine, MatchSuggestionRecord) == 0


def test_updated_invoice_keeps_what_reconbot_paid(engine: Engine, acme_workspace: int, write: Write) -> None:
    row = "A-2025-1,issued,invoice,Alfa Kft.,,,,2025-03-01,2025-03-10,{gross},HUF,0,issued\n"
    import_invoices(engine, acme_workspace, write("i.csv", INVOICES_HEADER + row.format(gross=1000)), actor="test")
    import_statement(
        engine, acme_workspace, write("s.csv", STATEMENT_HEADER + "T,2025-03-04,,400,HUF,A,,A-2025-1,\n"), actor="test"
    )
    again = import_invoices(
        engine, acme_workspace, write("j.csv", INVOICES_HEADER + row.format(gross=1200)), actor="test"
    )
    assert (again.new, again.updated, again.kept_paid) == (0, 1, 1)
    stored = invoice(engine, "A-2025-1")
    assert (stored.gross, stored.paid_amount, stored.status) == (
        Decimal("1200"),
        Decimal("400"),
        InvoiceStatus.PARTIALLY_PAID,
    )
    smaller = import_invoices(
        engine, acme_workspace, write("k.csv", INVOICES_HEADER + row.format(gross=400)), actor="test"
    )
    assert smaller.kept_paid == 1
    assert invoice(engine, "A-2025-1").status is InvoiceStatus.PAID


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "A-2025-1,issued,invoice,Alfa Kft.,,,,2025-03-01,2025-03-10,300,HUF,0,issued",
            "the gross amount falls to 300",
        ),
        ("A-2025-1,issued,invoice,Alfa Kft.,,,,2025-03-01,2025-03-10,1000,EUR,0,issued", "the currency changes to EUR"),
        ("A-2025-1,issued,invoice,Alfa Kft.,,,,2025-03-01,2025-03-10,1000,HUF,0,cancelled", "it is cancelled"),
    ],
)
def test_an_update_that_would_strand_reconbots_pairings_is_refused(
    engine: Engine, acme_workspace: int, write: Write, change: str, message: str
) -> None:
    row = "A-2025-1,issued,invoice,Alfa Kft.,,,,2025-03-01,2025-03-10,1000,HUF,0,issued\n"
    import_invoices(engine, acme_workspace, write("i.csv", INVOICES_HEADER + row), actor="test")
    import_statement(
        engine, acme_workspace, write("s.csv", STATEMENT_HEADER + "T,2025-03-04,,400,HUF,A,,A-2025-1,\n"), actor="test"
    )
    other = "B-2025-1,issued,invoice,Béta Kft.,,,,2025-03-01,2025-03-10,500,HUF,0,issued\n"
    with pytest.raises(InputError) as refused:
        import_invoices(engine, acme_workspace, write("j.csv", INVOICES_HEADER + other + change + "\n"), actor="test")
    assert str(refused.value) == (
        f"j.csv: line 3: A-2025-1: {message}, but reconbot paired 400 HUF of payments "
        "with it; undo those pairings first"
    )
    stored = invoice(engine, "A-2025-1")
    assert (stored.gross, stored.currency, stored.status) == (Decimal("1000"), "HUF", InvoiceStatus.PARTIALLY_PAID)
    assert count(engine, InvoiceRecord) == 1  # B-2025-1 of the refused file was not stored either


def test_a_payment_the_invoicing_system_knows_of_is_kept(engine: Engine, acme_workspace: int, write: Write) -> None:
    # reconbot paired 400 from the bank; the owner then recorded the rest, paid in cash, in the invoicing system.
    row = "A-2025-1,issued,invoice,Alfa Kft.,,,,2025-03-01,2025-03-10,1000,HUF,{paid},{status}\n"
    import_invoices(
        engine, acme_workspace, write("i.csv", INVOICES_HEADER + row.format(paid=0, status="")), actor="test"
    )
    import_statement(
        engine, acme_workspace, write("s.csv", STATEMENT_HEADER + "T,2025-03-04,,400,HUF,A,,A-2025-1,\n"), actor="test"
    )
    import_invoices(
        engine, acme_workspace, write("j.csv", INVOICES_HEADER + row.format(paid=1000, status="paid")), actor="test"
    )
    assert invoice(engine, "A-2025-1").status is InvoiceStatus.PAID
