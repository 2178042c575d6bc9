"""Fixtures for the service tests: a migrated database (SQLite, and PostgreSQL in CI) with one workspace."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import col, select

from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import (
    AllocationRecord,
    BankTransactionRecord,
    InvoiceRecord,
    OutboxEventRecord,
    Record,
)
from reconbot.core.services.workspaces import ensure_workspace

SAMPLES = Path(__file__).resolve().parents[2] / "reconbot" / "samples"
INVOICES_HEADER = (
    "number,direction,kind,partner_name,partner_tax_id,partner_iban,order_number,issue_date,due_date,"
    "gross_amount,currency,paid_amount,status\n"
)
STATEMENT_HEADER = (
    "id,booking_date,value_date,amount,currency,counterparty_name,counterparty_iban,reference,end_to_end_id\n"
)


@pytest.fixture
def workspace_id(engine: Engine) -> int:
    with session_scope(engine) as session:
        workspace = ensure_workspace(session, "acme")
    assert workspace.id is not None
    return workspace.id


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Return a function that writes a file into the test's folder and returns its path."""

    def write_file(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write_file


def count(engine: Engine, table: type[Record], **where: Any) -> int:
    """Return how many rows of ``table`` match the column values in ``where``."""
    with session_scope(engine) as session:
        query = select(func.count()).select_from(table)
        for name, value in where.items():
            query = query.where(col(getattr(table, name)) == value)
        return session.exec(query).one()


def invoice(engine: Engine, number: str) -> InvoiceRecord:
    with session_scope(engine) as session:
        found = session.exec(select(InvoiceRecord).where(InvoiceRecord.number == number)).one()
        return found


def transaction(engine: Engine, external_id: str) -> BankTransactionRecord:
    with session_scope(engine) as session:
        return session.exec(select(BankTransactionRecord).where(BankTransactionRecord.external_id == external_id)).one()


def live_allocations(engine: Engine, transaction_id: int) -> list[tuple[str, Decimal, str]]:
    """Return (invoice number, amount, method) of the transaction's allocations that are not undone."""
    with session_scope(engine) as session:
        query = (
            select(col(InvoiceRecord.number), col(AllocationRecord.amount), col(AllocationRecord.method))
            .join(InvoiceRecord, col(InvoiceRecord.id) == AllocationRecord.invoice_id)
            .where(AllocationRecord.transaction_id == transaction_id, col(AllocationRecord.undone_at).is_(None))
            .order_by(col(AllocationRecord.id))
        )
        return [(number, amount, method.value) for number, amount, method in session.exec(query)]


def events(engine: Engine) -> list[tuple[str, str]]:
    """Return (kind, dedupe key) of every outbox event, oldest first."""
    with session_scope(engine) as session:
        query = select(OutboxEventRecord.kind, OutboxEventRecord.dedupe_key).order_by(col(OutboxEventRecord.created_at))
        return list(session.exec(query))
