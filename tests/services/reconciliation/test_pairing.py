"""Pairing, undoing and setting aside by hand: exact amounts, clear refusals, and the engine learns."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from reconbot.core.domain import InvoiceStatus, TransactionStatus
from reconbot.core.errors import ReconciliationError
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import (
    AliasKind,
    AllocationRecord,
    AuditEventRecord,
    MatchSuggestionRecord,
    PayerAliasRecord,
)
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.invoicing.imports import import_invoices
from reconbot.core.services.reconciliation.pairing import ignore, pair, unpair
from tests.support.books import INVOICES_HEADER, STATEMENT_HEADER, count, invoice, live_allocations, transaction
from tests.support.paths import SAMPLES

Write = Callable[[str, str], Path]


@pytest.fixture
def demo(engine: Engine, acme_workspace: int) -> int:
    import_invoices(engine, acme_workspace, SAMPLES / "demo_invoices.csv", actor="test")
    import_statement(engine, acme_workspace, SAMPLES / "demo_statement.xml", actor="test")
    return acme_workspace


def tx_id(engine: Engine, external_id: str) -> int:
    found = transaction(engine, external_id).id
    assert found is not None
    return found


def inv_id(engine: Engine, number: str) -> int:
    found = invoice(engine, number).id
    assert found is not None
    return found


def test_pairing_a_suggested_combination(engine: Engine, demo: int) -> None:
    tx = tx_id(engine, "KH250306004")  # 90 000 from Nagy és Társa: E-KERT-2025-15 + -16 suggested
    assert count(engine, MatchSuggestionRecord, transaction_id=tx) > 0
    booked = pair(
        engine,
        demo,
        transaction_id=tx,
        invoice_ids=[inv_id(engine, "E-KERT-2025-16"), inv_id(engine, "E-KERT-2025-15")],
        actor="slack:U1",
    )
    assert [(b.invoice_number, b.amount) for b in booked] == [
        ("E-KERT-2025-15", Decimal("60000")),
        ("E-KERT-2025-16", Decimal("30000")),
    ]
    stored = transaction(engine, "KH250306004")
    assert (stored.status, stored.allocated) == (TransactionStatus.MATCHED, Decimal("90000"))
    assert invoice(engine, "E-KERT-2025-15").status is InvoiceStatus.PAID
    assert live_allocations(engine, tx) == [
        ("E-KERT-2025-15", Decimal("60000"), "manual"),
        ("E-KERT-2025-16", Decimal("30000"), "manual"),
    ]
    assert count(engine, MatchSuggestionRecord, transaction_id=tx) == 0
    assert count(engine, AuditEventRecord, actor="slack:U1", action="allocation.created") == 2


def test_second_press_is_refused_saying_who_did_it(engine: Engine, demo: int) -> None:
    tx = tx_id(engine, "KH250313011")
    pair(engine, demo, transaction_id=tx, invoice_ids=[inv_id(engine, "E-KERT-2025-14")], actor="telegram:42")
    with pytest.raises(ReconciliationError, match=r"already fully paired \(by telegram:42\)"):
        pair(engine, demo, transaction_id=tx, invoice_ids=[inv_id(engine, "E-KERT-2025-14")], actor="slack:U7")
    assert count(engine, AllocationRecord, transaction_id=tx) == 1


@pytest.mark.parametrize(
    ("number", "amounts", "message"),
    [
        ("E-KERT-2025-1", None, "E-KERT-2025-1 is already paid .paired by engine."),
        ("E-KERT-2025-11", None, "E-KERT-2025-11 is cancelled"),
        ("E-KERT-2025-18", None, "is in EUR, the transaction in HUF"),
        ("2025/000311", None, "incoming money cannot pay received invoice"),
        ("E-KERT-2025-14", [Decimal("95000")], "E-KERT-2025-14 has only 89900 open"),
        ("E-KERT-2025-14", [Decimal("0")], "must be positive"),
    ],
)
def test_impossible_pairings_are_refused_and_change_nothing(
    engine: Engine, demo: int, number: str, amounts: list[Decimal] | None, message: str
) -> None:
    tx = tx_id(engine, "KH250313011")  # 89 900 in from an unknown payer
    before = (count(engine, AllocationRecord), invoice(engine, number).paid_amount)
    with pytest.raises(ReconciliationError, match=message):
        pair(engine, demo, transaction_id=tx, invoice_ids=[inv_id(engine, number)], actor="x", amounts=amounts)
    assert (count(engine, AllocationRecord), invoice(engine, number).paid_amount) == before


def test_more_than_the_transaction_brought_is_refused(engine: Engine, demo: int) -> None:
    tx = tx_id(engine, "KH250313011")
    with pytest.raises(ReconciliationError, match=r"has only 89900\.00 left"):
        pair(
            engine,
            demo,
            transaction_id=tx,
            invoice_ids=[inv_id(engine, "E-KERT-2025-14"), inv_id(engine, "E-KERT-2025-15")],
            actor="x",
            amounts=[Decimal("89900"), Decimal("1")],
        )


def test_unpair_restores_exactly_and_a_second_undo_is_refused(engine: Engine, demo: int) -> None:
    tx = tx_id(engine, "KH250312009")  # 50 000 partial payment of E-KERT-2025-17, paired by the engine
    with session_scope(engine) as session:
        allocation = session.exec(select(AllocationRecord).where(AllocationRecord.transaction_id == tx)).one()
    assert allocation.id is not None
    undone = unpair(engine, demo, allocation_id=allocation.id, actor="admin:anna")
    assert (undone.invoice_number, undone.amount) == ("E-KERT-2025-17", Decimal("50000"))
    restored = invoice(engine, "E-KERT-2025-17")
    assert (restored.paid_amount, restored.status) == (Decimal("0"), InvoiceStatus.ISSUED)
    stored = transaction(engine, "KH250312009")
    assert (stored.allocated, stored.status) == (Decimal("0"), TransactionStatus.SUGGESTED)
    with pytest.raises(ReconciliationError, match="already undone by admin:anna"):
        unpair(engine, demo, allocation_id=allocation.id, actor="admin:bela")
    # The engine suggests it again but never pairs it back on its own, on this or any later run.
    import_statement(engine, demo, SAMPLES / "demo_statement.xml", actor="test")
    assert live_allocations(engine, tx) == []
    assert transaction(engine, "KH250312009").status is TransactionStatus.SUGGESTED


def test_a_confirmed_pairing_teaches_account_and_name(engine: Engine, acme_workspace: int, write: Write) -> None:
    invoices = "".join(
        f"E-Z-2025-{n},issued,invoice,Zöld Kert Bt.,27182818-2-13,,,2025-03-0{n},,{amount},HUF,,\n"
        for n, amount in ((1, 15500), (2, 9900))
    )
    import_invoices(engine, acme_workspace, write("i.csv", INVOICES_HEADER + invoices), actor="t")
    first = "T1,2025-03-05,,15500,HUF,KISS ZOLTAN EV,HU93116000060000000012345676,kert,\n"
    import_statement(engine, acme_workspace, write("a.csv", STATEMENT_HEADER + first), actor="t")
    assert transaction(engine, "T1").status is TransactionStatus.SUGGESTED  # who is Kiss Zoltán?
    pair(
        engine,
        acme_workspace,
        transaction_id=tx_id(engine, "T1"),
        invoice_ids=[inv_id(engine, "E-Z-2025-1")],
        actor="slack:U1",
    )
    with session_scope(engine) as session:
        aliases = {(a.kind, a.value) for a in session.exec(select(PayerAliasRecord))}
    assert aliases == {(AliasKind.IBAN, "HU93116000060000000012345676"), (AliasKind.NAME, "KISS ZOLTAN EV")}
    later = "T2,2025-03-20,,9900,HUF,KISS ZOLTAN EV,HU93116000060000000012345676,,\n"
    import_statement(engine, acme_workspace, write("b.csv", STATEMENT_HEADER + later), actor="t")
    assert live_allocations(engine, tx_id(engine, "T2")) == [("E-Z-2025-2", Decimal("9900"), "automatic")]


def test_ignore_sets_aside_and_pairing_it_is_refused(engine: Engine, demo: int) -> None:
    tx = tx_id(engine, "KH250312010")  # card payment
    ignore(engine, demo, transaction_id=tx, actor="x")
    assert transaction(engine, "KH250312010").status is TransactionStatus.IGNORED
    with pytest.raises(ReconciliationError, match="already set aside by x"):
        ignore(engine, demo, transaction_id=tx, actor="y")
    with pytest.raises(ReconciliationError, match="set aside by x"):
        pair(engine, demo, transaction_id=tx, invoice_ids=[inv_id(engine, "E-KERT-2025-14")], actor="y")
    with pytest.raises(ReconciliationError, match="is paired; undo its pairings first"):
        ignore(engine, demo, transaction_id=tx_id(engine, "KH250303001"), actor="x")


def test_another_workspace_cannot_touch_it(engine: Engine, demo: int) -> None:
    from reconbot.core.services.workspaces import ensure_workspace

    with session_scope(engine) as session:
        other = ensure_workspace(session, "other").id
    assert other is not None
    with pytest.raises(ReconciliationError, match="there is no transaction"):
        pair(engine, other, transaction_id=tx_id(engine, "KH250313011"), invoice_ids=[1], actor="x")


def test_two_people_pressing_at_once_pair_once(engine: Engine, demo: int) -> None:
    tx, target = tx_id(engine, "KH250313011"), inv_id(engine, "E-KERT-2025-14")
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def press(actor: str) -> None:
        start.wait()
        try:
            pair(engine, demo, transaction_id=tx, invoice_ids=[target], actor=actor)
            outcomes.append("paired")
        except ReconciliationError as refused:
            outcomes.append(str(refused))

    threads = [threading.Thread(target=press, args=(f"user{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [o for o in outcomes if o != "paired"]
    assert outcomes.count("paired") == 1 and len(refused) == 1
    assert "is already fully paired (by user" in refused[0]
    with session_scope(engine) as session:
        live = session.exec(
            select(AllocationRecord).where(
                AllocationRecord.transaction_id == tx, col(AllocationRecord.undone_at).is_(None)
            )
        ).all()
    assert len(live) == 1
    assert invoice(engine, "E-KERT-2025-14").paid_amount == Decimal("89900")


def test_undoing_a_mistaken_pairing_forgets_what_it_taught(engine: Engine, acme_workspace: int, write: Write) -> None:
    invoices = "".join(
        f"A-2025-{n},issued,invoice,Alfa Kft.,12121212-2-12,,,2025-03-0{n},,{amount},HUF,,\n"
        for n, amount in ((1, 12000), (2, 7000))
    )
    import_invoices(engine, acme_workspace, write("i.csv", INVOICES_HEADER + invoices), actor="t")
    payout = "T1,2025-03-05,,12000,HUF,BARION PAYMENT ZRT,HU93116000060000000012345676,kifizetés,\n"
    import_statement(engine, acme_workspace, write("a.csv", STATEMENT_HEADER + payout), actor="t")
    [mistake] = pair(
        engine, acme_workspace, transaction_id=tx_id(engine, "T1"), invoice_ids=[inv_id(engine, "A-2025-1")], actor="x"
    )
    unpair(engine, acme_workspace, allocation_id=mistake.allocation_id, actor="x")
    assert count(engine, PayerAliasRecord) == 0
    later = "T2,2025-03-20,,7000,HUF,BARION PAYMENT ZRT,HU93116000060000000012345676,kifizetés,\n"
    import_statement(engine, acme_workspace, write("b.csv", STATEMENT_HEADER + later), actor="t")
    assert live_allocations(engine, tx_id(engine, "T2")) == []


def test_a_double_click_with_amounts_books_once(engine: Engine, demo: int) -> None:
    tx, target = tx_id(engine, "KH250313011"), inv_id(engine, "E-KERT-2025-14")
    seen = transaction(engine, "KH250313011").allocated
    pair(
        engine,
        demo,
        transaction_id=tx,
        invoice_ids=[target],
        actor="x",
        amounts=[Decimal("40000")],
        expected_allocated=seen,
    )
    with pytest.raises(ReconciliationError, match=r"was paired meanwhile \(by x\)"):
        pair(
            engine,
            demo,
            transaction_id=tx,
            invoice_ids=[target],
            actor="x",
            amounts=[Decimal("40000")],
            expected_allocated=seen,
        )
    assert live_allocations(engine, tx) == [("E-KERT-2025-14", Decimal("40000"), "manual")]


def test_the_event_names_each_invoice_with_its_own_open_amount(engine: Engine, demo: int) -> None:
    from reconbot.core.persistence.tables import OutboxEventRecord

    # Named last-due first: the money still goes to the one due first (E-KERT-2025-15, 60 000 open).
    tx = tx_id(engine, "KH250306004")
    pair(
        engine,
        demo,
        transaction_id=tx,
        invoice_ids=[inv_id(engine, "E-KERT-2025-17"), inv_id(engine, "E-KERT-2025-15")],
        actor="x",
    )
    with session_scope(engine) as session:
        event = session.exec(select(OutboxEventRecord).where(col(OutboxEventRecord.dedupe_key).startswith("paired:")))
        payload = event.one().payload
    assert {(a["invoice_number"], a["amount"], a["open_after"]) for a in payload["allocations"]} == {
        ("E-KERT-2025-15", "60000", "0"),
        ("E-KERT-2025-17", "30000.00", "40000.00"),
    }


def test_unpair_a_transaction_undoes_all_its_pairings_at_once(engine: Engine, demo: int) -> None:
    from reconbot.core.services.reconciliation.pairing import unpair_transaction

    tx = tx_id(engine, "KH250306004")
    pair(
        engine,
        demo,
        transaction_id=tx,
        invoice_ids=[inv_id(engine, "E-KERT-2025-15"), inv_id(engine, "E-KERT-2025-16")],
        actor="x",
    )
    undone = unpair_transaction(engine, demo, transaction_id=tx, actor="y")
    assert sorted(b.invoice_number for b in undone) == ["E-KERT-2025-15", "E-KERT-2025-16"]
    assert live_allocations(engine, tx) == []
    assert transaction(engine, "KH250306004").status is TransactionStatus.SUGGESTED
    with pytest.raises(ReconciliationError, match="has no pairing to undo"):
        unpair_transaction(engine, demo, transaction_id=tx, actor="y")


def test_a_transaction_set_aside_can_be_brought_back(engine: Engine, demo: int) -> None:
    from reconbot.core.services.reconciliation.pairing import unignore

    tx = tx_id(engine, "KH250313011")
    ignore(engine, demo, transaction_id=tx, actor="x")
    unignore(engine, demo, transaction_id=tx, actor="y")
    back = transaction(engine, "KH250313011")
    assert back.status is TransactionStatus.SUGGESTED and back.ignored_by is None
    with pytest.raises(ReconciliationError, match="was not set aside"):
        unignore(engine, demo, transaction_id=tx, actor="y")
