"""What the panel's workbench reads: pages of transactions and one transaction with its candidates.

Every list is keyset-paged (newest first, then by id) and never uses OFFSET, so the thousandth page costs what
the first one does. A cursor is the last row's sort key as text, ``"<date>_<id>"``; a cursor that is not one
raises InputError. Pairing itself is ``reconciliation.pairing``; the helpers here only find what it needs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Engine, and_, func, or_, union_all
from sqlmodel import Session, col, select

from reconbot.core.domain import Direction, InvoiceKind, InvoiceStatus, TransactionStatus
from reconbot.core.errors import InputError, ReconciliationError
from reconbot.core.matching.reasons import Reason
from reconbot.core.persistence.mapping import invoice_from_record
from reconbot.core.persistence.tables import (
    AllocationRecord,
    BankAccountRecord,
    BankTransactionRecord,
    InvoiceRecord,
    MatchSuggestionRecord,
)
from reconbot.core.services.invoicing.lookup import invoice_numbered
from reconbot.core.services.reconciliation import pairing

NEEDS_PERSON = (TransactionStatus.UNMATCHED, TransactionStatus.SUGGESTED)
PAGE_SIZE = 50
_CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{1,18})")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows and the cursor of the next one (None on the last page)."""

    rows: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class TransactionRow:
    id: int
    external_id: str
    booking_date: date
    amount: Decimal  # signed: + came in
    currency: str
    counterparty: str
    reference: str
    status: TransactionStatus
    account: str
    allocated: Decimal


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    """What the workbench list is narrowed to; empty fields narrow nothing."""

    statuses: Sequence[TransactionStatus] = NEEDS_PERSON
    account_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str


def cursor_of(day: date, row_id: int) -> str:
    """Return the cursor that continues after the row of ``day`` and ``row_id``."""
    return f"{day.isoformat()}_{row_id}"


def parse_cursor(cursor: str) -> tuple[date, int] | None:
    """Return the (date, id) a cursor holds, None for an empty one; raises InputError for anything else."""
    if not cursor:
        return None
    found = _CURSOR.fullmatch(cursor.strip())
    try:
        if found is None:
            raise ValueError(cursor)
        return date.fromisoformat(found[1]), int(found[2])
    except ValueError:
        raise InputError("page", "", "this page link is broken; start again from the first page") from None


def like_pattern(text: str) -> str:
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _transaction_conditions(workspace_id: int, where: TransactionFilter) -> list[Any]:
    """Return the conditions of ``where`` except its statuses (pending transactions are never listed)."""
    tx = BankTransactionRecord
    conditions: list[Any] = [col(tx.workspace_id) == workspace_id, col(tx.pending).is_(False)]
    if where.account_id is not None:
        conditions.append(col(tx.bank_account_id) == where.account_id)
    if where.date_from is not None:
        conditions.append(col(tx.booking_date) >= where.date_from)
    if where.date_to is not None:
        conditions.append(col(tx.booking_date) <= where.date_to)
    if where.text.strip():
        pattern = like_pattern(where.text)
        conditions.append(or_(col(tx.counterparty_name).ilike(pattern, escape="\\"),
                              col(tx.reference).ilike(pattern, escape="\\"),
                              col(tx.external_id).ilike(pattern, escape="\\")))  # fmt: skip
    return conditions


def after_cursor(day_column: Any, id_column: Any, cursor: str) -> list[ColumnElement[bool]]:
    """Return the keyset condition "comes after the cursor" in (date desc, id desc) order."""
    position = parse_cursor(cursor)
    if position is None:
        return []
    day, row_id = position
    # The plain ``<=`` lets both databases range-scan the index; the OR settles ties on the same day.
    return [day_column <= day, or_(day_column < day, and_(day_column == day, id_column < row_id))]


def transactions_page(
    engine: Engine, workspace_id: int, where: TransactionFilter = TransactionFilter(), *, after: str = "",
    limit: int = PAGE_SIZE,
) -> Page[TransactionRow]:  # fmt: skip
    """Return the page of the workspace's booked transactions matching ``where`` that follows cursor ``after``,
    newest first. Raises InputError for a broken cursor."""
    tx = BankTransactionRecord
    if not where.statuses:
        return Page([], None)
    common = _transaction_conditions(workspace_id, where)
    common += after_cursor(col(tx.booking_date), col(tx.id), after)
    # One ordered, limited index range per status, merged: no database can merge the ranges of ``status IN
    # (...)`` in date order by itself, so it would sort every waiting row to show fifty.
    ranges = [
        select(col(tx.id), col(tx.booking_date))
        .where(*common, col(tx.status) == status)
        .order_by(col(tx.booking_date).desc(), col(tx.id).desc())
        .limit(limit + 1)
        .subquery()
        for status in dict.fromkeys(where.statuses)
    ]
    merged = union_all(*(select(r.c.id, r.c.booking_date) for r in ranges)).subquery()
    query = (
        select(tx, BankAccountRecord.name, BankAccountRecord.iban)
        .join(merged, merged.c.id == col(tx.id))
        .join(BankAccountRecord, col(BankAccountRecord.id) == col(tx.bank_account_id))
        .order_by(col(tx.booking_date).desc(), col(tx.id).desc())
        .limit(limit + 1)
    )
    with Session(engine) as session:
        found = session.exec(query).all()
    rows = [TransactionRow(t.id or 0, t.external_id, t.booking_date, t.amount, t.currency,
                           t.counterparty_name or t.counterparty_iban, t.reference, t.status, name or iban,
                           t.allocated) for t, name, iban in found[:limit]]  # fmt: skip
    more = len(found) > limit
    return Page(rows, cursor_of(rows[-1].booking_date, rows[-1].id) if more and rows else None)


COUNT_CAP = 10_000  # counting stops here: a tab says "10,000+" rather than read every matched transaction


def status_counts(engine: Engine, workspace_id: int, where: TransactionFilter = TransactionFilter()) -> dict[str, int]:
    """Return how many booked transactions each status has under ``where`` (its statuses aside), keyed by status
    value, every status present; a count above ``COUNT_CAP`` is returned as ``COUNT_CAP + 1``."""
    tx = BankTransactionRecord
    conditions = _transaction_conditions(workspace_id, where)
    counted = {}
    with Session(engine) as session:
        for status in TransactionStatus:
            capped = select(col(tx.id)).where(*conditions, col(tx.status) == status).limit(COUNT_CAP + 1).subquery()
            counted[status.value] = session.exec(select(func.count()).select_from(capped)).one()
    return counted


def accounts(engine: Engine, workspace_id: int) -> list[Account]:
    """Return the workspace's bank accounts, by name, for the account filter."""
    query = select(BankAccountRecord).where(col(BankAccountRecord.workspace_id) == workspace_id)
    with Session(engine) as session:
        found = session.exec(query.order_by(col(BankAccountRecord.id))).all()
    return [Account(a.id or 0, a.name or a.iban or f"#{a.id}") for a in found]


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: int
    number: str
    kind: InvoiceKind
    direction: Direction
    partner: str
    tax_id: str
    issue_date: date
    due_date: date | None
    gross: Decimal
    paid: Decimal
    open_amount: Decimal
    currency: str
    status: InvoiceStatus


def invoice_row(record: InvoiceRecord) -> InvoiceRow:
    """Return the list row of a stored invoice."""
    return InvoiceRow(record.id or 0, record.number, record.kind, record.direction, record.partner_name,
                      record.partner_tax_id, record.issue_date, record.due_date, record.gross, record.paid_amount,
                      invoice_from_record(record).open_amount, record.currency, record.status)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Allocation:
    id: int
    transaction_id: int
    invoice_id: int
    invoice_number: str
    amount: Decimal
    currency: str
    method: str
    by: str
    at: datetime
    undone_by: str | None
    booking_date: date | None = None  # of the transaction (invoice detail)
    counterparty: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    suggestion_id: int
    rank: int
    invoices: list[InvoiceRow]
    amounts: list[Decimal]
    confidence: Decimal
    reasons: list[str]
    flags: list[str]


@dataclass(frozen=True, slots=True)
class TransactionDetail:
    transaction: TransactionRow
    counterparty_iban: str
    flags: list[str]
    ignored_by: str | None
    allocations: list[Allocation]  # live ones first, then undone ones
    candidates: list[Candidate]


def _reason_text(stored: dict[str, Any]) -> str:
    """Return the sentence of a stored reason (``matching_run.reason_json``), rebuilt from its code and values
    where the code is known, else the text stored with it."""
    try:
        return Reason(str(stored["code"]), tuple((str(k), str(v)) for k, v in stored.get("args", {}).items())).text
    except (KeyError, IndexError, ValueError, AttributeError):
        return str(stored.get("text", ""))


def transaction_detail(engine: Engine, workspace_id: int, transaction_id: int) -> TransactionDetail | None:
    """Return the transaction with its allocations and the engine's candidates, or None when the workspace
    has no such transaction."""
    with Session(engine) as session:
        tx = session.get(BankTransactionRecord, transaction_id)
        if tx is None or tx.workspace_id != workspace_id or tx.id is None:
            return None
        account = session.get(BankAccountRecord, tx.bank_account_id)
        row = TransactionRow(tx.id, tx.external_id, tx.booking_date, tx.amount, tx.currency,
                             tx.counterparty_name or tx.counterparty_iban, tx.reference, tx.status,
                             (account.name or account.iban) if account else "", tx.allocated)  # fmt: skip
        query = (
            select(AllocationRecord, InvoiceRecord.number)
            .join(InvoiceRecord, col(InvoiceRecord.id) == col(AllocationRecord.invoice_id))
            .where(col(AllocationRecord.transaction_id) == tx.id)
            .order_by(col(AllocationRecord.undone_at).is_not(None), col(AllocationRecord.id))
        )
        allocations = [allocation_view(a, number) for a, number in session.exec(query).all()]
        suggestions = session.exec(
            select(MatchSuggestionRecord)
            .where(col(MatchSuggestionRecord.transaction_id) == tx.id)
            .order_by(col(MatchSuggestionRecord.rank), col(MatchSuggestionRecord.id))
        ).all()
        wanted = {i for s in suggestions for i in s.invoice_ids}
        invoices = {r.id: invoice_row(r) for r in session.exec(
            select(InvoiceRecord).where(col(InvoiceRecord.workspace_id) == workspace_id,
                                        col(InvoiceRecord.id).in_(wanted)))} if wanted else {}  # fmt: skip
        candidates = [
            Candidate(s.id or 0, s.rank, [invoices[i] for i in s.invoice_ids if i in invoices],
                      [Decimal(a) for a in s.amounts], s.confidence, [_reason_text(r) for r in s.reasons],
                      list(s.flags))
            for s in suggestions
        ]  # fmt: skip
        return TransactionDetail(row, tx.counterparty_iban, list(tx.flags), tx.ignored_by, allocations, candidates)


def allocation_view(a: AllocationRecord, number: str, tx: BankTransactionRecord | None = None) -> Allocation:
    return Allocation(a.id or 0, a.transaction_id, a.invoice_id, number, a.amount, a.currency, a.method.value,
                      a.created_by, a.created_at, a.undone_by, tx.booking_date if tx else None,
                      (tx.counterparty_name or tx.counterparty_iban) if tx else "")  # fmt: skip


def pair_candidate(
    engine: Engine, workspace_id: int, *, transaction_id: int, suggestion_id: int, expected_allocated: Decimal,
    actor: str,
) -> list[pairing.Booked]:  # fmt: skip
    """Pair the transaction as the engine's suggestion ``suggestion_id`` proposed and return the allocations.

    Raises ReconciliationError when the suggestion is gone (someone paired or re-matched meanwhile) or
    ``pairing.pair`` refuses.
    """
    with Session(engine) as session:
        found = session.get(MatchSuggestionRecord, suggestion_id)
        if found is None or found.workspace_id != workspace_id or found.transaction_id != transaction_id:
            raise ReconciliationError("this suggestion is no longer current; look at the transaction again")
        invoice_ids, amounts = list(found.invoice_ids), [Decimal(a) for a in found.amounts]
    return pairing.pair(engine, workspace_id, transaction_id=transaction_id, invoice_ids=invoice_ids,
                        amounts=amounts or None, expected_allocated=expected_allocated, actor=actor)  # fmt: skip


def pair_by_number(
    engine: Engine, workspace_id: int, *, transaction_id: int, number: str, amount: Decimal | None,
    expected_allocated: Decimal, actor: str,
) -> list[pairing.Booked]:  # fmt: skip
    """Pair the transaction with the invoice numbered ``number`` (as a person types it), for ``amount`` or as
    much as both have open; return the allocations. Raises ReconciliationError when there is no such invoice
    or ``pairing.pair`` refuses."""
    if not number.strip():
        raise ReconciliationError("type the number of the invoice to pair with")
    with Session(engine) as session:
        found = invoice_numbered(session, workspace_id, number)
        invoice_id = found.id if found else None
    if invoice_id is None:
        raise ReconciliationError(f"there is no invoice numbered {number.strip()[:60]}")
    return pairing.pair(engine, workspace_id, transaction_id=transaction_id, invoice_ids=[invoice_id],
                        amounts=[amount] if amount is not None else None, expected_allocated=expected_allocated,
                        actor=actor)  # fmt: skip
