"""Property: whatever people pair and undo, no allocation exceeds what a transaction brought or an
invoice had open, and undoing a pairing restores every amount and status exactly."""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import Engine
from sqlmodel import col, select

from reconbot.core.domain import InvoiceStatus, TransactionStatus, status_for
from reconbot.core.errors import InputError, ReconciliationError
from reconbot.core.money import ZERO
from reconbot.core.persistence.database import create_engine_for, session_scope
from reconbot.core.persistence.schema import upgrade
from reconbot.core.persistence.tables import AllocationRecord, BankTransactionRecord, InvoiceRecord
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.invoicing.imports import import_invoices
from reconbot.core.services.reconciliation.pairing import pair, unpair
from reconbot.core.services.workspaces import ensure_workspace
from tests.support.books import INVOICES_HEADER, STATEMENT_HEADER

INVOICES = [("P-2025-1", "1000"), ("P-2025-2", "2500.50"), ("P-2025-3", "700"), ("P-2025-4", "-300")]
PAYMENTS = [("T1", "1500"), ("T2", "2500.50"), ("T3", "90.10"), ("T4", "-300"), ("T5", "4000")]


Snapshot = tuple[dict[int, tuple[Decimal, InvoiceStatus]], dict[int, tuple[Decimal, str]]]


def _snapshot(engine: Engine) -> Snapshot:
    with session_scope(engine) as session:
        invoices = {i.id or 0: (i.paid_amount, i.status) for i in session.exec(select(InvoiceRecord))}
        txs = {t.id or 0: (t.allocated, t.status.value) for t in session.exec(select(BankTransactionRecord))}
    return invoices, txs


def _grosses(engine: Engine) -> dict[int, Decimal]:
    with session_scope(engine) as session:
        return {i.id or 0: i.gross for i in session.exec(select(InvoiceRecord))}


class PairingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        # SQLite, a fresh file per example; the same services run on PostgreSQL in test_pairing.py.
        self.engine = create_engine_for(f"sqlite:///{self.folder.name}/p.sqlite3")
        upgrade(self.engine)
        with session_scope(self.engine) as session:
            workspace_id = ensure_workspace(session, "prop").id
        assert workspace_id is not None
        self.workspace_id = workspace_id
        folder = Path(self.folder.name)
        rows = "".join(
            f"{n},issued,{'credit_note' if g[0] == '-' else 'invoice'},Partner {k},,,,2025-01-0{k + 1},,{g},HUF,0,\n"
            for k, (n, g) in enumerate(INVOICES)
        )
        (folder / "i.csv").write_text(INVOICES_HEADER + rows)
        # Texts that name nothing, so the engine leaves every pairing to the rules below.
        payments = "".join(f"{t},2025-02-0{k + 1},,{a},HUF,X{k},,x,\n" for k, (t, a) in enumerate(PAYMENTS))
        (folder / "s.csv").write_text(STATEMENT_HEADER + payments)
        import_invoices(self.engine, self.workspace_id, folder / "i.csv", actor="p")
        import_statement(self.engine, self.workspace_id, folder / "s.csv", actor="p")
        with session_scope(self.engine) as session:
            self.tx_ids = [
                t.id or 0 for t in session.exec(select(BankTransactionRecord).order_by(col(BankTransactionRecord.id)))
            ]
            self.invoice_ids = [i.id or 0 for i in session.exec(select(InvoiceRecord).order_by(col(InvoiceRecord.id)))]
            self.initial = {i.id or 0: i.paid_amount for i in session.exec(select(InvoiceRecord))}
        self.history: list[tuple[list[int], Snapshot]] = []  # allocation ids, state before

    def teardown(self) -> None:
        self.engine.dispose()
        self.folder.cleanup()

    @rule(
        tx=st.integers(0, len(PAYMENTS) - 1),
        picks=st.lists(st.integers(0, len(INVOICES) - 1), min_size=1, max_size=3, unique=True),
        cents=st.one_of(st.none(), st.lists(st.integers(-100, 300_000), min_size=3, max_size=3)),
    )
    def pair_some(self, tx: int, picks: list[int], cents: list[int] | None) -> None:
        before = _snapshot(self.engine)
        amounts = None if cents is None else [Decimal(c) / 100 for c in cents[: len(picks)]]
        try:
            booked = pair(
                self.engine,
                self.workspace_id,
                transaction_id=self.tx_ids[tx],
                invoice_ids=[self.invoice_ids[p] for p in picks],
                actor="p",
                amounts=amounts,
            )
        except ReconciliationError:
            assert _snapshot(self.engine) == before  # a refusal changes nothing
            event("refused")
            return
        event("paired")
        self.history.append(([b.allocation_id for b in booked], before))

    @rule(pick=st.integers(0, len(INVOICES) - 1), cents=st.integers(1, 400_000))
    def reimport_with_another_gross(self, pick: int, cents: int) -> None:
        # The invoicing system's export changes an invoice; reconbot's pairings must never be stranded.
        number, gross = INVOICES[pick]
        new_gross = Decimal(cents) / 100 * (-1 if gross[0] == "-" else 1)
        rows = "".join(
            f"{n},issued,{'credit_note' if g[0] == '-' else 'invoice'},Partner {k},,,,2025-01-0{k + 1},,"
            f"{new_gross if n == number else g},HUF,0,\n"
            for k, (n, g) in enumerate(INVOICES)
        )
        path = Path(self.folder.name) / "again.csv"
        path.write_text(INVOICES_HEADER + rows)
        before = _snapshot(self.engine)
        try:
            import_invoices(self.engine, self.workspace_id, path, actor="p")
        except InputError:
            assert _snapshot(self.engine) == before
            event("re-import refused")
            return
        event("re-imported")

    @precondition(lambda self: bool(self.history))
    @rule(data=st.data())
    def undo_the_last(self, data: st.DataObject) -> None:
        allocation_ids, before = self.history.pop()
        for allocation_id in data.draw(st.permutations(allocation_ids)):
            unpair(self.engine, self.workspace_id, allocation_id=allocation_id, actor="p")
        event("undone")
        after_invoices, after_txs = _snapshot(self.engine)
        before_invoices, before_txs = before
        assert {k: paid for k, (paid, _) in after_invoices.items()} == {
            k: paid for k, (paid, _) in before_invoices.items()
        }
        # Each status is the one before, unless a re-import changed that invoice's gross since: then it is what the
        # same paid amount means against the new gross (without a re-import, the two are the same).
        grosses = _grosses(self.engine)
        expected = {k: status_for(grosses[k], paid) for k, (paid, _) in before_invoices.items()}
        assert {k: status for k, (_, status) in after_invoices.items()} == expected
        assert {k: v[0] for k, v in after_txs.items()} == {k: v[0] for k, v in before_txs.items()}

    @invariant()
    def nothing_is_allocated_twice(self) -> None:
        with session_scope(self.engine) as session:
            live = session.exec(select(AllocationRecord).where(col(AllocationRecord.undone_at).is_(None))).all()
            per_tx: dict[int, Decimal] = {}
            per_invoice: dict[int, Decimal] = {}
            for a in live:
                assert a.amount > ZERO
                per_tx[a.transaction_id] = per_tx.get(a.transaction_id, ZERO) + a.amount
                per_invoice[a.invoice_id] = per_invoice.get(a.invoice_id, ZERO) + a.amount
            for t in session.exec(select(BankTransactionRecord)):
                allocated = per_tx.get(t.id or 0, ZERO)
                assert t.allocated == allocated <= abs(t.amount)
                assert (t.status is TransactionStatus.MATCHED) == (allocated > ZERO)
            for i in session.exec(select(InvoiceRecord)):
                paid = per_invoice.get(i.id or 0, ZERO)
                assert abs(i.paid_amount) == abs(self.initial[i.id or 0]) + paid <= abs(i.gross)
                assert i.status is status_for(i.gross, i.paid_amount)


PairingMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("RECONBOT_PROPERTY_EXAMPLES", "25")),
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPairing = PairingMachine.TestCase
