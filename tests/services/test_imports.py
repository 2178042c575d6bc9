"""Importing statements and invoice lists: stored once, matched, nothing half-stored on bad input."""

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
    InvoiceRecord,
    MatchSuggestionRecord,
    OutboxEventRecord,
)
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.invoicing.imports import import_invoices
from tests.services.conftest import (
    INVOICES_HEADER,
    SAMPLES,
    STATEMENT_HEADER,
    count,
    events,
    invoice,
    live_allocations,
    transaction,
)

Write = Callable[[str, str], Path]


def import_demo(engine: Engine, workspace_id: int) -> None:
    import_invoices(engine, workspace_id, SAMPLES / "demo_invoices.csv", actor="test")
    import_statement(engine, workspace_id, SAMPLES / "demo_statement.xml", actor="test")


def test_demo_files_are_stored_and_matched(engine: Engine, workspace_id: int) -> None:
    import_demo(engine, workspace_id)
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


def test_importing_the_same_files_again_changes_nothing(engine: Engine, workspace_id: int) -> None:
    import_demo(engine, workspace_id)
    before = {
        table: count(engine, table)
        for table in (BankTransactionRecord, AllocationRecord, MatchSuggestionRecord, OutboxEventRecord)
    }
    again = import_statement(engine, workspace_id, SAMPLES / "demo_statement.xml", actor="test")
    import_invoices(engine, workspace_id, SAMPLES / "demo_invoices.csv", actor="test")
    assert again.new == 0 and again.matching.matched == 0
    assert {table: count(engine, table) for table in before} == before
    assert invoice(engine, "E-KERT-2025-1").status is InvoiceStatus.PAID  # reconbot's payment is kept
    assert count(engine, ImportBatchRecord) == 4


def test_the_outbox_gets_each_event_once(engine: Engine, workspace_id: int) -> None:
    import_demo(engine, workspace_id)
    import_demo(engine, workspace_id)
    kinds = [kind for kind, _ in events(engine)]
    assert kinds.count("payment_matched") == 8
    assert kinds.count("unmatched_transaction") == 5
    assert kinds.count("possible_double_payment") == 1
    assert kinds.count("partial_payment") == 2  # Lakatos, and the EUR transfer short by a bank fee
    assert kinds.count("proforma_paid") == 1
    keys = [key for _, key in events(engine)]
    assert len(keys) == len(set(keys))


def test_overlapping_statement_adds_only_the_new_transactions(engine: Engine, workspace_id: int, write: Write) -> None:
    rows = [f"T{n},2025-03-0{n},2025-03-0{n},{n}000,HUF,PAYER {n},,ref {n}," for n in range(1, 6)]
    import_statement(engine, workspace_id, write("a.csv", STATEMENT_HEADER + "\n".join(rows[:3])), actor="test")
    done = import_statement(engine, workspace_id, write("b.csv", STATEMENT_HEADER + "\n".join(rows[1:])), actor="test")
    assert (done.rows, done.new) == (4, 2)
    assert count(engine, BankTransactionRecord) == 5


def test_two_genuine_identical_payments_stay_two(engine: Engine, workspace_id: int, write: Write) -> None:
    row = ",2025-03-03,2025-03-03,5000,HUF,KISS ANNA,,ebéd,"
    path = write("same.csv", STATEMENT_HEADER + row + "\n" + row + "\n")
    assert import_statement(engine, workspace_id, path, actor="test").new == 2
    assert import_statement(engine, workspace_id, path, actor="test").new == 0
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
    engine: Engine, workspace_id: int, write: Write, name: str, text: str, message: str
) -> None:
    with pytest.raises(InputError) as failure:
        import_statement(engine, workspace_id, write(name, text), actor="test")
    assert str(failure.value).startswith(message)
    assert count(engine, BankTransactionRecord) == 0
    assert count(engine, ImportBatchRecord) == 0
    assert count(engine, AuditEventRecord) == 0


def test_an_invoice_list_that_fails_stores_nothing(engine: Engine, workspace_id: int, write: Write) -> None:
    good = "E-1-2025-1,issued,invoice,A Kft.,,,,2025-03-01,2025-03-09,1000,HUF,0,issued\n"
    bad = "E-1-2025-2,issued,invoice,B Kft.,,,,2025-03-01,2025-03-09,12.5.0,HUF,0,issued\n"
    with pytest.raises(InputError, match=r"invoices.csv: line 3: gross_amount"):
        import_invoices(engine, workspace_id, write("invoices.csv", INVOICES_HEADER + good + bad), actor="test")
    assert count(engine, InvoiceRecord) == 0


def test_invoices_arriving_after_the_payment_get_matched(engine: Engine, workspace_id: int, write: Write) -> None:
    statement = write("s.csv", STATEMENT_HEADER + "T1,2025-03-05,2025-03-05,48000,HUF,ALFA KFT,,szla A-2025-77,\n")
    first = import_statement(engine, workspace_id, statement, actor="test")
    assert first.matching.unmatched == 1
    invoices = write("i.csv", INVOICES_HEADER + "A-2025-77,issued,invoice,Alfa Kft.,,,,2025-03-01,,48000,HUF,,\n")
    later = import_invoices(engine, workspace_id, invoices, actor="test")
    assert later.matching.matched == 1
    assert invoice(engine, "A-2025-77").status is InvoiceStatus.PAID
    assert count(engine, MatchSuggestionRecord) == 0


def test_updated_invoice_keeps_what_reconbot_paid(engine: Engine, workspace_id: int, write: Write) -> None:
    row = "A-2025-1,issued,invoice,Alfa Kft.,,,,2025-03-01,2025-03-10,{gross},HUF,0,issued\n"
    import_invoices(engine, workspace_id, write("i.csv", INVOICES_HEADER + row.format(gross=1000)), actor="test")
    import_statement(
        engine, workspace_id, write("s.csv", STATEMENT_HEADER + "T,2025-03-04,,400,HUF,A,,A-2025-1,\n"), actor="test"
    )
    again = import_invoices(
        engine, workspace_id, write("j.csv", INVOICES_HEADER + row.format(gross=1200)), actor="test"
    )
    assert (again.new, again.updated, again.kept_paid) == (0, 1, 1)
    stored = invoice(engine, "A-2025-1")
    assert (stored.gross, stored.paid_amount, stored.status) == (
        Decimal("1200"),
        Decimal("400"),
        InvoiceStatus.PARTIALLY_PAID,
    )
    smaller = import_invoices(
        engine, workspace_id, write("k.csv", INVOICES_HEADER + row.format(gross=400)), actor="test"
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
    engine: Engine, workspace_id: int, write: Write, change: str, message: str
) -> None:
    row = "A-2025-1,issued,invoice,Alfa Kft.,,,,2025-03-01,2025-03-10,1000,HUF,0,issued\n"
    import_invoices(engine, workspace_id, write("i.csv", INVOICES_HEADER + row), actor="test")
    import_statement(
        engine, workspace_id, write("s.csv", STATEMENT_HEADER + "T,2025-03-04,,400,HUF,A,,A-2025-1,\n"), actor="test"
    )
    other = "B-2025-1,issued,invoice,Béta Kft.,,,,2025-03-01,2025-03-10,500,HUF,0,issued\n"
    with pytest.raises(InputError) as refused:
        import_invoices(engine, workspace_id, write("j.csv", INVOICES_HEADER + other + change + "\n"), actor="test")
    assert str(refused.value) == (
        f"j.csv: line 3: A-2025-1: {message}, but reconbot paired 400 HUF of payments "
        "with it; undo those pairings first"
    )
    stored = invoice(engine, "A-2025-1")
    assert (stored.gross, stored.currency, stored.status) == (Decimal("1000"), "HUF", InvoiceStatus.PARTIALLY_PAID)
    assert count(engine, InvoiceRecord) == 1  # B-2025-1 of the refused file was not stored either


def test_a_payment_the_invoicing_system_knows_of_is_kept(engine: Engine, workspace_id: int, write: Write) -> None:
    # reconbot paired 400 from the bank; the owner then recorded the rest, paid in cash, in the invoicing system.
    row = "A-2025-1,issued,invoice,Alfa Kft.,,,,2025-03-01,2025-03-10,1000,HUF,{paid},{status}\n"
    import_invoices(engine, workspace_id, write("i.csv", INVOICES_HEADER + row.format(paid=0, status="")), actor="test")
    import_statement(
        engine, workspace_id, write("s.csv", STATEMENT_HEADER + "T,2025-03-04,,400,HUF,A,,A-2025-1,\n"), actor="test"
    )
    import_invoices(
        engine, workspace_id, write("j.csv", INVOICES_HEADER + row.format(paid=1000, status="paid")), actor="test"
    )
    assert invoice(engine, "A-2025-1").status is InvoiceStatus.PAID


def test_a_bank_id_reused_for_another_transaction_keeps_both(engine: Engine, workspace_id: int, write: Write) -> None:
    first = "REF1,2025-03-03,,5000,HUF,KISS ANNA,,ebéd,\n"
    again = "REF1,2025-04-07,,8800,HUF,NAGY BELA,,bérlet,\n"  # the bank gave the same id to another payment
    import_statement(engine, workspace_id, write("a.csv", STATEMENT_HEADER + first), actor="t")
    assert import_statement(engine, workspace_id, write("b.csv", STATEMENT_HEADER + again), actor="t").new == 1
    assert import_statement(engine, workspace_id, write("c.csv", STATEMENT_HEADER + first + again), actor="t").new == 0
    assert count(engine, BankTransactionRecord) == 2


def test_one_account_written_two_ways_is_one_account(engine: Engine, workspace_id: int, write: Write) -> None:
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
    import_statement(engine, workspace_id, write("a.xml", camt(iban, "R1")), actor="t")
    assert import_statement(engine, workspace_id, write("b.xml", camt(domestic, "R1")), actor="t").new == 0
    assert count(engine, BankAccountRecord) == 1


def test_every_automatic_allocation_is_audited_by_its_id(engine: Engine, workspace_id: int) -> None:
    from sqlmodel import select

    from reconbot.core.persistence.database import session_scope

    import_demo(engine, workspace_id)
    with session_scope(engine) as session:
        allocation_ids = set(session.exec(select(AllocationRecord.id)))
        audited = {
            e.data["allocation_id"]
            for e in session.exec(select(AuditEventRecord).where(AuditEventRecord.action == "allocation.created"))
        }
    assert allocation_ids == audited and len(audited) == 8
