"""What the chat commands list, as facts: the transactions waiting for a decision, and an invoice's payers (bank
data only where the chat may see it)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine

from reconbot.core.services.chat import listing
from tests.support.books import Books
from tests.support.chat import INVOICES, PAYMENTS


def test_the_waiting_transactions_and_an_invoices_payers_as_facts(
    engine: Engine, workspace_id: int, books: Books
) -> None:
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    waiting = listing.waiting_transactions(engine, workspace_id, limit=5)
    assert waiting.count == 1
    assert [(t.amount, t.counterparty, t.reference) for t in waiting.largest] == [
        (Decimal(50000), "Ismeretlen Péter", "befizetés")
    ]
    seen = listing.invoice_payment(engine, workspace_id, " e-2026-1 ", bank_data=True)
    hidden = listing.invoice_payment(engine, workspace_id, "E-2026-1", bank_data=False)
    assert seen is not None and hidden is not None
    assert (seen.number, seen.paid, seen.gross) == ("E-2026-1", Decimal(127000), Decimal(127000))
    assert [p.payer for p in seen.payments] == ["Kert Kft."] and hidden.payments == ()
    assert listing.invoice_payment(engine, workspace_id, "NOPE", bank_data=True) is None
