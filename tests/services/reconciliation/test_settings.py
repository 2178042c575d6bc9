"""The workspace's amount tolerance reaches the matching engine: a short payment counts as paying only within it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from reconbot.core.persistence.tables import BankTransactionRecord
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.invoicing.imports import import_invoices
from reconbot.core.services.reconciliation.settings import parse_tolerance_percent, update_matching_settings
from tests.support.books import INVOICES_HEADER, STATEMENT_HEADER


@pytest.mark.parametrize(("percent", "flagged"), [("3", False), ("5", True)])
def test_a_payment_four_percent_short_is_a_bank_fee_only_when_the_tolerance_allows_it(
    engine: Engine, acme_workspace: int, write: Callable[[str, str], Path], percent: str, flagged: bool
) -> None:
    update_matching_settings(engine, acme_workspace, actor="test", amount_tolerance=parse_tolerance_percent(percent))
    import_invoices(engine, acme_workspace, write("invoices.csv", INVOICES_HEADER +
                    "E-KERT-2026-7,issued,invoice,Fekete Bt.,,,,2026-02-20,2026-03-06,100000,HUF,0,issued\n"),
                    actor="test")  # fmt: skip
    import_statement(engine, acme_workspace, write("statement.csv", STATEMENT_HEADER +
                     "t1,2026-03-01,,96000,HUF,FEKETE BT,,E-KERT-2026-7,\n"), actor="test")  # fmt: skip
    with Session(engine) as session:
        payment = session.exec(select(BankTransactionRecord)).one()
    assert ("possible_bank_fee" in payment.flags) is flagged


def test_the_tolerance_is_read_as_a_percentage_from_0_to_10() -> None:
    assert parse_tolerance_percent("2,5 %") == Decimal("0.025")
    for bad in ("11", "-1", "three", "NaN"):
        with pytest.raises(ValueError, match="a percentage from 0 to 10"):
            parse_tolerance_percent(bad)
