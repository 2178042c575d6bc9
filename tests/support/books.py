"""A workspace's books as the tests write and read them (a plugin of the root conftest).

The fixtures: ``workspace_id``, the workspace "Kert-Építő Kft." (HU, HUF) most tests work in, and ``books``,
which writes invoice lists and statements into files and imports them as a user would. The helpers read back
what was stored.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.invoicing.imports import import_invoices
from reconbot.core.services.workspaces import ensure_workspace

INVOICES_HEADER = (
    "number,direction,kind,partner_name,partner_tax_id,partner_iban,order_number,issue_date,due_date,"
    "gross_amount,currency,paid_amount,status\n"
)
STATEMENT_HEADER = (
    "id,booking_date,value_date,amount,currency,counterparty_name,counterparty_iban,reference,end_to_end_id\n"
)


@pytest.fixture
def workspace_id(engine: Engine) -> int:
    """Return the id of the workspace "Kert-Építő Kft." (slug ``kert``, HU, HUF)."""
    with session_scope(engine) as session:
        workspace = ensure_workspace(session, "kert", name="Kert-Építő Kft.", country="HU", currency="HUF")
    assert workspace.id is not None
    return workspace.id


@dataclass
class Books:
    """Writes invoice and statement files for the workspace and imports them, as a user would."""

    engine: Engine
    workspace_id: int
    folder: Path
    files: int = 0

    def invoices(self, rows: list[tuple[str, str, str]], *, kind: str = "invoice") -> None:
        lines = [
            f"{n},issued,{kind},{partner},,,,2026-02-20,2026-03-10,{gross},HUF,0,issued" for n, partner, gross in rows
        ]
        import_invoices(self.engine, self.workspace_id, self._write(INVOICES_HEADER, lines), actor="cli:test")

    def statement(self, rows: list[tuple[str, str, str, str]]) -> None:
        lines = [f"{tid},2026-03-02,2026-03-02,{amount},HUF,{payer},,{ref}," for tid, amount, payer, ref in rows]
        import_statement(self.engine, self.workspace_id, self._write(STATEMENT_HEADER, lines), actor="cli:test")

    def _write(self, header: str, lines: list[str]) -> Path:
        self.files += 1
        path = self.folder / f"file-{self.files}.csv"
        path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
        return path


@pytest.fixture
def books(engine: Engine, workspace_id: int, tmp_path: Path) -> Books:
    return Books(engine, workspace_id, tmp_path)


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
