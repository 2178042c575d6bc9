"""The workbench and invoice search, through the real web app: lists, filters, paging, pair / unpair / ignore,
roles, and bad input."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from reconbot.core.domain import TransactionStatus
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import (
    AllocationRecord,
    AuditEventRecord,
    BankAccountRecord,
    BankTransactionRecord,
)
from reconbot.core.roles import Role
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.invoicing.imports import import_invoices
from reconbot.core.services.reconciliation import workbench
from tests.support.panel import OWNER_EMAIL, Panel

SAMPLES = Path(__file__).resolve().parents[2] / "reconbot" / "samples"


@pytest.fixture
def sample(panel: Panel) -> Panel:
    """The panel's workspace with the bundled demo invoices and statement imported (8 matched, 2 suggested,
    3 unmatched)."""
    import_invoices(panel.engine, panel.workspace_id, SAMPLES / "demo_invoices.csv", actor="test")
    import_statement(panel.engine, panel.workspace_id, SAMPLES / "demo_statement.xml", actor="test")
    return panel


def tx_id(panel: Panel, external_id: str) -> int:
    with Session(panel.engine) as session:
        found = session.exec(select(BankTransactionRecord).where(BankTransactionRecord.external_id == external_id))
        tx = found.one()
        assert tx.id is not None
        return tx.id


def transaction(panel: Panel, external_id: str) -> BankTransactionRecord:
    with Session(panel.engine) as session:
        tx = session.get(BankTransactionRecord, tx_id(panel, external_id))
        assert tx is not None
        return tx


def counts(panel: Panel) -> tuple[int, int]:
    """Return how many allocations and audit events are stored."""
    with Session(panel.engine) as session:
        allocations = session.exec(select(func.count()).select_from(AllocationRecord)).one()
        audits = session.exec(select(func.count()).select_from(AuditEventRecord)).one()
        return allocations, audits


def listed(body: str) -> list[int]:
    """Return the transaction ids a workbench page lists, in order (each row links its id twice)."""
    return list(dict.fromkeys(int(n) for n in re.findall(r'href="/workbench/(\d+)"', body)))


async def test_the_list_shows_what_needs_a_person_with_counts_and_narrows_by_status_account_date_and_text(
    sample: Panel,
) -> None:
    owner = await sample.visitor()
    status, body = await owner.get("/workbench")
    assert status == 200
    assert "Needs a person (5)" in body and "Suggested (2)" in body and "Matched (8)" in body and "All (13)" in body
    assert set(listed(body)) == {tx_id(sample, e) for e in ("KH250306004", "KH250308006", "KH250312010",
                                                           "KH250313011", "KH250314012")}  # fmt: skip
    assert "KOVACS ES FIA KFT" in body and "FEKETE BT" not in body

    _, body = await owner.get("/workbench?status=matched&from=2025-03-10&to=2025-03-11")
    assert listed(body) == [tx_id(sample, "KH250311008"), tx_id(sample, "KH250310007")]  # newest first
    assert "Matched (2)" in body  # the tabs count under the same date filter

    with Session(sample.engine) as session:
        second = session.exec(select(BankAccountRecord).where(col(BankAccountRecord.iban).endswith("9000"))).one()
    _, body = await owner.get(f"/workbench?status=all&account={second.id}")
    with Session(sample.engine) as session:
        expected = session.exec(select(col(BankTransactionRecord.id)).where(
            BankTransactionRecord.bank_account_id == second.id)).all()  # fmt: skip
    assert expected and sorted(listed(body)) == sorted(i for i in expected if i is not None)

    _, body = await owner.get("/workbench?status=all&q=nagy+es")
    assert set(listed(body)) == {tx_id(sample, "KH250304002"), tx_id(sample, "KH250306004")}


async def test_paging_by_cursor_lists_every_transaction_exactly_once_in_order(
    panel: Panel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbench, "COUNT_CAP", 100)  # counting stops early, as it does at 10,000
    with session_scope(panel.engine) as session:
        account = BankAccountRecord(workspace_id=panel.workspace_id, iban="HU00111", currency="HUF", name="Main")
        session.add(account)
        session.flush()
        assert account.id is not None
        for n in range(123):  # many on one day, so page boundaries fall between rows of the same date
            session.add(BankTransactionRecord(
                workspace_id=panel.workspace_id, bank_account_id=account.id, dedupe_key=f"k{n}", external_id=f"T{n}",
                booking_date=date(2026, 2, 1) + timedelta(days=n // 40), amount=Decimal(1000 + n), currency="HUF",
                counterparty_name=f"Payer {n}", status=TransactionStatus.UNMATCHED))  # fmt: skip
    with Session(panel.engine) as session:
        rows = session.exec(select(BankTransactionRecord)).all()
        expected = [t.id for t in sorted(rows, key=lambda t: (t.booking_date, t.id), reverse=True)]
    owner = await panel.visitor()
    seen: list[int] = []
    path = "/workbench"
    for _ in range(5):
        status, body = await owner.get(path)
        assert status == 200
        seen += listed(body)
        found = re.search(r'<a href="(\?[^"]+)" rel="next">', body)
        if found is None:
            break
        path = "/workbench" + found[1].replace("&amp;", "&")
    assert seen == expected and len(seen) == 123
    assert "Unmatched (100+)" in body and "Needs a person (100+)" in body and "Matched (0)" in body

    status, body = await owner.get("/workbench?after=not-a-cursor")
    assert status == 400 and "this page link is broken" in body


def suggestion_of(body: str) -> str:
    found = re.search(r'name="suggestion" value="(\d+)"', body)
    assert found, "no candidate with a Pair button"
    return found[1]


def expected_of(body: str) -> str:
    found = re.search(r'name="expected" value="([^"]+)"', body)
    assert found
    return found[1]


async def test_pairing_a_suggested_transaction_from_its_candidate_and_undoing_it(sample: Panel) -> None:
    owner = await sample.visitor()
    tid = tx_id(sample, "KH250313011")
    status, body = await owner.get(f"/workbench/{tid}")
    assert status == 200 and "E-KERT-2025-14" in body
    assert "the payer is not known, so the amount alone decides nothing" in body  # the candidate's reason
    form = {"suggestion": suggestion_of(body), "expected": expected_of(body)}
    assert await owner.location(f"/workbench/{tid}/pair", form) == f"/workbench/{tid}"
    status, body = await owner.get(f"/workbench/{tid}")
    assert "Paired with E-KERT-2025-14." in body and "Unpair" in body
    tx = transaction(sample, "KH250313011")
    assert tx.status is TransactionStatus.MATCHED and tx.allocated == Decimal("89900")
    with Session(sample.engine) as session:
        allocation = session.exec(select(AllocationRecord).where(AllocationRecord.transaction_id == tid)).one()
    assert allocation.amount == Decimal("89900") and allocation.created_by == f"web:{OWNER_EMAIL}"

    before = counts(sample)
    status, body = await owner.post(f"/workbench/{tid}/pair", form)  # the same button again (a double click)
    assert status == 400 and "no longer current" in body and counts(sample) == before

    assert await owner.location(f"/workbench/{tid}/unpair", {"allocation": allocation.id}) == f"/workbench/{tid}"
    _, body = await owner.get(f"/workbench/{tid}")
    assert "Pairing with E-KERT-2025-14 undone." in body and f"undone by web:{OWNER_EMAIL}" in body
    tx = transaction(sample, "KH250313011")
    assert tx.allocated == 0 and tx.status in (TransactionStatus.UNMATCHED, TransactionStatus.SUGGESTED)


async def test_pairing_by_invoice_number_books_the_open_amount(sample: Panel) -> None:
    owner = await sample.visitor()
    tid = tx_id(sample, "KH250306004")  # 90 000 from Nagy és Társa
    _, body = await owner.get(f"/workbench/{tid}")
    await owner.location(f"/workbench/{tid}/pair-number", {"number": " e-kert-2025-16 ", "amount": "30 000",
                                                            "expected": expected_of(body)})  # fmt: skip
    tx = transaction(sample, "KH250306004")
    assert tx.status is TransactionStatus.MATCHED and tx.allocated == Decimal("30000")


async def test_ignoring_and_bringing_back_a_transaction(sample: Panel) -> None:
    owner = await sample.visitor()
    tid = tx_id(sample, "KH250312010")  # a card payment at a petrol station
    assert await owner.location(f"/workbench/{tid}/ignore") == f"/workbench/{tid}"
    assert transaction(sample, "KH250312010").status is TransactionStatus.IGNORED
    _, body = await owner.get("/workbench?status=ignored")
    assert listed(body) == [tid] and "Needs a person (4)" in body
    _, body = await owner.get(f"/workbench/{tid}")
    assert f"set aside by web:{OWNER_EMAIL}" in body and "Bring back" in body
    await owner.location(f"/workbench/{tid}/unignore")
    assert transaction(sample, "KH250312010").status is not TransactionStatus.IGNORED


async def test_bad_pairings_show_one_clear_error_and_store_nothing(sample: Panel) -> None:
    owner = await sample.visitor()
    tid = tx_id(sample, "KH250306004")
    _, body = await owner.get(f"/workbench/{tid}")
    expected = expected_of(body)
    before = counts(sample)
    status, body = await owner.post(f"/workbench/{tid}/pair-number", {"number": "X-404", "expected": expected})
    assert status == 400 and "There is no invoice numbered X-404." in body and "Traceback" not in body
    status, body = await owner.post(f"/workbench/{tid}/pair-number", {"number": "E-KERT-2025-16", "amount": "40000",
                                                                      "expected": expected})  # fmt: skip
    assert status == 400 and "Invoice E-KERT-2025-16 has only 30000 open." in body
    status, body = await owner.post(f"/workbench/{tid}/pair-number", {"number": "E-KERT-2025-16", "amount": "lots",
                                                                      "expected": expected})  # fmt: skip
    assert status == 400 and "not a number" in body
    assert body.count('class="error"') == 1
    assert counts(sample) == before and transaction(sample, "KH250306004").allocated == 0


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.INVOICING])
async def test_roles_without_bank_data_see_no_transactions_and_cannot_pair(sample: Panel, role: Role) -> None:
    visitor = await sample.visitor(role)
    tid = tx_id(sample, "KH250313011")
    for path in ("/workbench", f"/workbench/{tid}", "/workbench?status=all"):
        status, body = await visitor.get(path)
        assert status == 403 and "KOVACS" not in body
    _, owner_body = await (await sample.visitor()).get(f"/workbench/{tid}")
    before = counts(sample)
    status, _ = await visitor.post(f"/workbench/{tid}/pair", {"suggestion": suggestion_of(owner_body),
                                                              "expected": "0"})  # fmt: skip
    assert status == 403 and counts(sample) == before
    assert transaction(sample, "KH250313011").status is TransactionStatus.SUGGESTED


async def test_every_role_searches_invoices_but_only_bank_roles_see_who_paid(sample: Panel) -> None:
    invoicing = await sample.visitor(Role.INVOICING)
    status, body = await invoicing.get("/invoices?q=12345678")  # Nagy és Társa's tax id
    assert status == 200
    assert {"E-KERT-2025-12", "E-KERT-2025-15", "E-KERT-2025-16"} <= set(re.findall(r"E-KERT-2025-\d+", body))
    assert "E-KERT-2025-1<" not in body
    found = re.search(r'href="/invoices/(\d+)">E-KERT-2025-12<', body)
    assert found
    status, body = await invoicing.get(f"/invoices/{found[1]}")
    assert status == 200 and "paid" in body and "Payments" not in body and "NAGY ES TARSA" not in body
    assert "/workbench/" not in body

    owner = await sample.visitor()
    _, body = await owner.get(f"/invoices/{found[1]}")
    assert (
        "Payments" in body and "NAGY ES TARSA" in body and f'href="/workbench/{tx_id(sample, "KH250304002")}"' in body
    )

    _, body = await invoicing.get("/invoices?q=33+000")  # by amount
    assert re.findall(r"E-KERT-2025-\d+", body) == ["E-KERT-2025-11"]
    _, body = await invoicing.get("/invoices?status=open&direction=issued")
    assert "E-KERT-2025-14" in body and "E-KERT-2025-12" not in body
    status, _ = await invoicing.get("/invoices?status=bogus")
    assert status == 400
