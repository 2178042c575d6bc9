"""Matching creates no reference cycles, so a batch run may switch the cycle collector off."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from reconbot.core.domain import InvoiceKind
from reconbot.core.matching import MatchingEngine
from tests.matching.factories import inv, tx


@pytest.fixture
def collector_saving_garbage() -> Iterator[list[object]]:
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_matching_leaves_no_cyclic_garbage(collector_saving_garbage: list[object]) -> None:
    iban = "HU42117730161111101800000000"
    invoices = [inv(f"E-A-2025-{n}", str(1000 + 100 * n), iban=iban) for n in range(1, 12)]
    invoices += [inv("D-2025-1", "5000", kind=InvoiceKind.PROFORMA), inv("E-B-2025-1", "7000", cancelled=True)]
    transactions = [
        tx("1100", "E-A-2025-1"),  # reference
        tx("2500", "", iban=iban),  # combination of the payer's invoices (bitset search)
        tx("20000", "", iban=iban),
        tx("5000", "díjbekérő D-2025-1"),
        tx("7000", "E-B-2025-1"),  # cancelled
        tx("999", "kártya", name="SHELL"),
    ]
    engine = MatchingEngine(invoices)
    gc.collect()
    collector_saving_garbage.clear()
    results = engine.match_all(transactions)
    assert len(results) == len(transactions)
    gc.collect()
    assert collector_saving_garbage == []
