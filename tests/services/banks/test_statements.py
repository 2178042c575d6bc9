"""Importing statements: stored once and matched (the demo files too), nothing half-stored on bad input."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from reconbot.core.domain import InvoiceStatus, TransactionStatus
from reconbot.core.errors import InputError
from reconbot.core.persistence.tables import (
    AllocationRecord,
    AuditEventRecord,
    BankAccountRecord,
    BankTransactionRecord,
    ImportBatchRecord,
    MatchSuggestionRecord,
    OutboxEventRecord,
)
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.invoicing.imports import import_invoices
from tests.support.books import STATEMENT_HEADER, count, events, invoice, live_allocations, transaction
from tests.support.paths import SAMPLES

Write = Callable[[str, str], Path]


def import_demo(engine: Engine, workspace_id: int) -> None:
    import_invoices(engine, workspace_id, SAMPLES / "demo_invoices.csv", actor="test")
    import_statement(engine, workspace_id, SAMPLES / "demo_statement.xml", actor="test")


def test_demo_files_are_stored_and_matched(engine: Engine, acme_workspace: int) -> None:
    import_demo(engine, acme_workspace)
    assert count(engine, BankTransactionRecord) == 13
    assert count(engine, BankTransactionRecord, status=TransactionStatus.MATCHED) == 8
    assert count(engine, BankTransactionRecord, status=TransactionStatus.SUGGESTED) == 2
    first = transaction(engine, "KH250303001")
    assert first.status is TransactionStatus.MATCHED and first.allocated == Decimal("127000")
    assert live_allocations(engine, first.id or 0) == [("E-KERT-2025-1", Decimal("127000"), "automatic")]
    assert invoice(engine, "E-KERT-2025-1").status is InvoiceStatus.PAID
    partial = invoice(engine, "E-KERT-2025-17")
    assert partial.status is InvoiceStatus.PARTIALLY_PAID and partial.paid_amount == Decimal("50000")
    credit = invoice(engine, "J-KERT-2025-2")
    assert credit.status is InvoiceStatus.PAID and credit.paid_amount == Decimal("-15000")
    assert "partial_payment" in transaction(engine, "KH250312009").flags
    assert "already_paid" in transaction(engine, "KH250308006").flags


def test_importing_the_same_files_again_changes_nothing(engine: Engine, acme_workspace: int) -> None:
    import_demo(engine, acme_workspace)
    before = {
        table: count(engine, table)
        for table in (BankTransactionRecord, AllocationRecord, MatchSuggestionRecord, OutboxEventRecord)
    }
    again = import_statement(engine, acme_workspace, SAMPLES / "demo_statement.xml", actor="test")
    import_invoices(engine, acme_workspace, SAMPLES / "demo_invoices.csv", actor="test")
    assert again.new == 0 and again.matching.matched == 0
    assert {table: count(engine, table) for table in before} == before
    assert invoice(engine, "E-KERT-2025-1").status is InvoiceStatus.PAID  # reconbot's payment is kept
    assert count(engine, ImportBatchRecord) == 4


def test_the_outbox_gets_each_event_once(engine: Engine, acme_workspace: int) -> None:
    import_demo(engine, acme_workspace)
    import_demo(engine, acme_workspace)
    kinds = [kind for kind, _ in events(engine)]
    assert kinds.count("payment_matched") == 8
    assert kinds.count("unmatched_transaction") == 5
    assert kinds.count("possible_double_payment") == 1
    assert kinds.count("partial_payment") == 2  # Lakatos, and the EUR transfer short by a bank fee
    assert kinds.count("proforma_paid") == 1
    keys = [key for _, key in events(engine)]
    assert len(keys) == len(set(keys))


def test_overlapping_statement_adds_only_the_new_transactions(
    engine: Engine, acme_workspace: int, write: Write
) -> None:
    rows = [f"T{n},2025-03-0{n},2025-03-0{n},{n}000,HUF,PAYER {n},,ref {n}," for n in range(1, 6)]
    import_statement(engine, acme_workspace, write("a.csv", STATEMENT_HEADER + "\n".join(rows[:3])), actor="test")
    done = import_statement(
        engine, acme_workspace, write("b.csv", STATEMENT_HEADER + "\n".join(rows[1:])), actor="test"
    )
    assert (done.rows, done.new) == (4, 2)
    assert count(engine, BankTransactionRecord) == 5


def test_two_genuine_identical_payments_stay_two(engine: Engine, acme_workspace: int, write: Write) -> None:
    row = ",2025-03-03,2025-03-03,5000,HUF,KISS ANNA,,ebéd,"
    path = write("same.csv", STATEMENT_HEADER + row + "\n" + row + "\n")
    assert import_statement(engine, acme_workspace, path, actor="test").new == 2
    assert import_statement(engine, acme_workspace, path, actor="test").new == 0
    assert count(engine, BankTransactionRecord) == 2


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "bad.csv",
            STATEMENT_HEADER + "T1,2025-03-01,2025-03-01,100,HUF,A,,x,\nT2,2025-03-02,,1O0,HUF,B,,y,\n",
            "bad.csv: line 3",
        ),
        (
            "wrong.xml",
            '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            "<BkToCstmrStmt><GrpHdr><MsgId>1</MsgId></GrpHdr></BkToCstmrStmt></Document>",
            "wrong.xml",
        ),
    ],
)
def test_a_statement_that_fails_stores_nothing(
    engine: Engine, acme_workspace: int, write: Write, name: str, text: str, message: str
) -> None:
    with pytest.raises(InputError) as failure:
        import_statement(engine, acme_workspace, write(name, text), actor="test")
    assert str(failure.value).startswith(message)
    assert count(engine, BankTransactionRecord) == 0
    assert count(engine, ImportBatchRecord) == 0
    assert count(engine, AuditEventRecord) == 0


def test_a_bank_id_reused_for_another_transaction_keeps_both(engine: Engine, acme_workspace: int, write: Write) -> None:
    first = "REF1,2025-03-03,,5000,HUF,KISS ANNA,,ebéd,\n"
    again = "REF1,2025-04-07,,8800,HUF,NAGY BELA,,bérlet,\n"  # the bank gave the same id to another payment
    import_statement(engine, acme_workspace, write("a.csv", STATEMENT_HEADER + first), actor="t")
    assert import_statement(engine, acme_workspace, write("b.csv", STATEMENT_HEADER + again), actor="t").new == 1
    assert (
        import_statement(engine, acme_workspace, write("c.csv", STATEMENT_HEADER + first + again), actor="t").new == 0
    )
    assert count(engine, BankTransactionRecord) == 2


def test_one_account_written_two_ways_is_one_account(engine: Engine, acme_workspace: int, write: Write) -> None:
    def camt(account: str, ref: str) -> str:
        return (
            '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
            "<GrpHdr><MsgId>1</MsgId><CreDtTm>2025-03-04T10:00:00</CreDtTm></GrpHdr><Stmt><Id>1</Id>"
            f"<CreDtTm>2025-03-04T10:00:00</CreDtTm><Acct><Id>{account}</Id></Acct><Ntry>"
            '<Amt Ccy="HUF">100</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2025-03-03</Dt></BookgDt>'
            f"<AcctSvcrRef>{ref}</AcctSvcrRef></Ntry></Stmt></BkToCstmrStmt></Document>"
        )

    iban = "<IBAN>HU42117730161111101800000000</IBAN>"
    domestic = "<Othr><Id>11773016-11111018</Id></Othr>"
    import_statement(engine, acme_workspace, write("a.xml", camt(iban, "R1")), actor="t")
    assert import_statement(engine, acme_workspace, write("b.xml", camt(domestic, "R1")), actor="t").new == 0
    assert count(engine, BankAccountRecord) == 1


def test_every_automatic_allocation_is_audited_by_its_id(engine: Engine, acme_workspace: int) -> None:
    from sqlmodel import select

    from reconbot.core.persistence.database import session_scope

    import_demo(engine, acme_workspace)
    with session_scope(engine) as session:
        allocation_ids = set(session.exec(select(AllocationRecord.id)))
        audited = {
            e.data["allocation_id"]
            for e in session.exec(select(AuditEventRecord).where(AuditEventRecord.action == "allocation.created"))
        }
    assert allocation_ids == audited and len(audited) == 8
