"""What people do with a transaction: pair it with invoices, undo a pairing, or set it aside.

The chat buttons and the admin panel call these; each is one database
transaction under the workspace lock, writes an audit event, and refuses
(with a ReconciliationError saying why) anything that would allocate money
twice or that someone already did. The ``*_in`` variants do the same inside a
caller's transaction (a chat press books and records its message edits in one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from reconbot.core.domain import (
    AllocationMethod,
    InvoiceKind,
    InvoiceStatus,
    TransactionStatus,
    due_first,
    paid_part,
    status_for,
)
from reconbot.core.errors import ReconciliationError
from reconbot.core.money import ZERO, format_amount
from reconbot.core.parties import compact_iban, name_tokens, tax_key
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.mapping import invoice_from_record
from reconbot.core.persistence.tables import (
    AliasKind,
    AllocationRecord,
    BankTransactionRecord,
    InvoiceRecord,
    MatchSuggestionRecord,
    PayerAliasRecord,
    WorkspaceRecord,
    utcnow,
)
from reconbot.core.services.events import EventKind, audit, audit_allocation, emit
from reconbot.core.services.invoicing.operations import PaymentToWrite, queue_payments, queue_removal
from reconbot.core.services.invoicing.proformas import proforma_paid
from reconbot.core.services.reconciliation.matching import payment_note, run_matching
from reconbot.core.services.workspaces import lock_workspace


@dataclass(frozen=True, slots=True)
class Booked:
    """One allocation a person made: its id, the invoice and the amount."""

    allocation_id: int
    invoice_id: int
    invoice_number: str
    amount: Decimal


def pair(
    engine: Engine,
    workspace_id: int,
    *,
    transaction_id: int,
    invoice_ids: Sequence[int],
    actor: str,
    amounts: Sequence[Decimal] | None = None,
    expected_allocated: Decimal | None = None,
) -> list[Booked]:
    """Allocate the transaction's money to ``invoice_ids`` and return the allocations made.

    Without ``amounts`` the money goes to the invoice due first, then the next,
    each up to its open amount. ``expected_allocated`` is how much of the
    transaction was allocated when the person looked (a button carries it): if
    it changed meanwhile, say by a double click, nothing is booked. Raises
    ReconciliationError for that, and when an invoice is of another workspace,
    currency or direction, is cancelled or settled, or when the amounts exceed
    what the transaction or an invoice has left.
    """
    with session_scope(engine) as session:
        return pair_in(session, workspace_id, transaction_id=transaction_id, invoice_ids=invoice_ids, actor=actor,
                       amounts=amounts, expected_allocated=expected_allocated)  # fmt: skip


def pair_in(
    session: Session,
    workspace_id: int,
    *,
    transaction_id: int,
    invoice_ids: Sequence[int],
    actor: str,
    amounts: Sequence[Decimal] | None = None,
    expected_allocated: Decimal | None = None,
) -> list[Booked]:
    """``pair`` inside the caller's transaction (a chat press books and records its message edit in one)."""
    if not invoice_ids:
        raise ReconciliationError("choose at least one invoice to pair with")
    if amounts is not None and len(amounts) != len(invoice_ids):
        raise ReconciliationError("give one amount per invoice")
    workspace = lock_workspace(session, workspace_id)
    tx = _transaction(session, workspace_id, transaction_id)
    if tx.status is TransactionStatus.IGNORED:
        raise ReconciliationError(f"transaction {tx.external_id} was set aside by {tx.ignored_by}; bring it back first")
    remaining = abs(tx.amount) - tx.allocated
    if remaining <= ZERO:
        raise ReconciliationError(f"transaction {tx.external_id} is already fully paired{_by_whom(session, tx)}")
    if expected_allocated is not None and tx.allocated != expected_allocated:
        raise ReconciliationError(f"transaction {tx.external_id} was paired meanwhile{_by_whom(session, tx)}")
    records = [_invoice(session, workspace_id, invoice_id, tx) for invoice_id in invoice_ids]
    planned = _plan(records, remaining, amounts)
    booked = [_book(session, workspace_id, tx, record, amount, actor) for record, amount in planned]
    tx.allocated += sum((b.amount for b in booked), ZERO)
    tx.status = TransactionStatus.MATCHED
    session.execute(delete(MatchSuggestionRecord).where(col(MatchSuggestionRecord.transaction_id) == tx.id))
    _learn(session, workspace_id, tx, planned[0][0], booked[0].allocation_id)
    note = payment_note(tx.counterparty_name, tx.reference)
    payments = [PaymentToWrite(b.allocation_id, b.invoice_id, b.amount, tx.currency, tx.booking_date, note)
                for b in booked]  # fmt: skip
    queue_payments(session, workspace_id, payments, actor)
    _announce(session, workspace, tx, [record for record, _ in planned], booked, actor)
    return booked


def unpair(engine: Engine, workspace_id: int, *, allocation_id: int, actor: str) -> Booked:
    """Undo an allocation (keeping it in the history as undone) and return what was undone.

    The invoice's paid amount and the transaction's allocated money are restored
    exactly; the transaction gets fresh suggestions but is never paired
    automatically again. Raises ReconciliationError when the allocation is not
    this workspace's or was undone already (saying by whom).
    """
    with session_scope(engine) as session:
        workspace = lock_workspace(session, workspace_id)
        allocation = session.get(AllocationRecord, allocation_id)
        if allocation is None or allocation.workspace_id != workspace_id:
            raise ReconciliationError(f"there is no allocation {allocation_id}")
        if allocation.undone_at is not None:
            when = allocation.undone_at.strftime("%Y-%m-%d %H:%M")
            raise ReconciliationError(
                f"allocation {allocation_id} was already undone by {allocation.undone_by} at {when}"
            )
        undone = _undo(session, workspace_id, allocation, actor)
        tx = session.get(BankTransactionRecord, allocation.transaction_id)
        assert tx is not None
        _suggest_again(session, workspace, tx)
        return undone


def _undo(session: Session, workspace_id: int, allocation: AllocationRecord, actor: str) -> Booked:
    """Mark the allocation undone and give its money back to the transaction and the invoice."""
    invoice = session.get(InvoiceRecord, allocation.invoice_id)
    tx = session.get(BankTransactionRecord, allocation.transaction_id)
    assert invoice is not None and tx is not None and allocation.id is not None and invoice.id is not None
    allocation.undone_at, allocation.undone_by = utcnow(), actor
    queue_removal(session, allocation, actor)
    # What a pairing taught is forgotten with it: a mistaken pairing must not keep pairing that payer.
    session.execute(delete(PayerAliasRecord).where(col(PayerAliasRecord.source_allocation_id) == allocation.id))
    invoice.paid_amount -= paid_part(invoice.gross, allocation.amount)
    if invoice.status is not InvoiceStatus.CANCELLED:
        invoice.status = status_for(invoice.gross, invoice.paid_amount)
    tx.allocated -= allocation.amount
    tx.status = TransactionStatus.MATCHED if tx.allocated > ZERO else TransactionStatus.UNMATCHED
    audit(
        session,
        workspace_id,
        actor,
        "allocation.undone",
        "allocation",
        allocation.id,
        transaction_id=tx.id,
        invoice_id=invoice.id,
        amount=format_amount(allocation.amount),
    )
    return Booked(allocation.id, invoice.id, invoice.number, allocation.amount)


def _suggest_again(session: Session, workspace: WorkspaceRecord, tx: BankTransactionRecord) -> None:
    # Fresh suggestions for money that is free again; never an automatic pairing (see run_matching).
    session.flush()
    if tx.status is TransactionStatus.UNMATCHED and tx.id is not None:
        run_matching(session, workspace, transaction_ids=[tx.id])


def unpair_transaction(engine: Engine, workspace_id: int, *, transaction_id: int, actor: str) -> list[Booked]:
    """Undo every live pairing of a transaction in one database transaction; return what was undone.

    Raises ReconciliationError when the transaction has none.
    """
    with session_scope(engine) as session:
        return unpair_transaction_in(session, workspace_id, transaction_id=transaction_id, actor=actor)


def unpair_transaction_in(session: Session, workspace_id: int, *, transaction_id: int, actor: str) -> list[Booked]:
    """``unpair_transaction`` inside the caller's transaction."""
    workspace = lock_workspace(session, workspace_id)
    tx = _transaction(session, workspace_id, transaction_id)
    query = select(AllocationRecord).where(
        col(AllocationRecord.transaction_id) == transaction_id, col(AllocationRecord.undone_at).is_(None)
    )
    allocations = session.exec(query.order_by(col(AllocationRecord.id))).all()
    if not allocations:
        raise ReconciliationError(f"transaction {tx.external_id} has no pairing to undo")
    undone = [_undo(session, workspace_id, allocation, actor) for allocation in allocations]
    _suggest_again(session, workspace, tx)
    return undone


def unignore(engine: Engine, workspace_id: int, *, transaction_id: int, actor: str) -> None:
    """Bring a transaction that was set aside back to matching; raises ReconciliationError if it was not set aside."""
    with session_scope(engine) as session:
        workspace = lock_workspace(session, workspace_id)
        tx = _transaction(session, workspace_id, transaction_id)
        if tx.status is not TransactionStatus.IGNORED:
            raise ReconciliationError(f"transaction {tx.external_id} was not set aside")
        tx.status, tx.ignored_at, tx.ignored_by = TransactionStatus.UNMATCHED, None, None
        audit(session, workspace_id, actor, "transaction.unignored", "bank_transaction", transaction_id)
        _suggest_again(session, workspace, tx)


def ignore(engine: Engine, workspace_id: int, *, transaction_id: int, actor: str) -> None:
    """Set a transaction aside as no invoice payment (a fee, a salary, a transfer between own accounts).

    Raises ReconciliationError when it has allocations (undo them first) or was set aside already.
    """
    with session_scope(engine) as session:
        ignore_in(session, workspace_id, transaction_id=transaction_id, actor=actor)


def ignore_in(session: Session, workspace_id: int, *, transaction_id: int, actor: str) -> None:
    """``ignore`` inside the caller's transaction."""
    lock_workspace(session, workspace_id)
    tx = _transaction(session, workspace_id, transaction_id)
    if tx.status is TransactionStatus.IGNORED:
        raise ReconciliationError(f"transaction {tx.external_id} was already set aside by {tx.ignored_by}")
    if tx.allocated > ZERO:
        raise ReconciliationError(f"transaction {tx.external_id} is paired; undo its pairings first")
    tx.status, tx.ignored_at, tx.ignored_by = TransactionStatus.IGNORED, utcnow(), actor
    session.execute(delete(MatchSuggestionRecord).where(col(MatchSuggestionRecord.transaction_id) == tx.id))
    audit(session, workspace_id, actor, "transaction.ignored", "bank_transaction", transaction_id)


def _transaction(session: Session, workspace_id: int, transaction_id: int) -> BankTransactionRecord:
    tx = session.get(BankTransactionRecord, transaction_id)
    if tx is None or tx.workspace_id != workspace_id:
        raise ReconciliationError(f"there is no transaction {transaction_id}")
    return tx


def _invoice(session: Session, workspace_id: int, invoice_id: int, tx: BankTransactionRecord) -> InvoiceRecord:
    record = session.get(InvoiceRecord, invoice_id)
    if record is None or record.workspace_id != workspace_id:
        raise ReconciliationError(f"there is no invoice {invoice_id}")
    invoice = invoice_from_record(record)
    if record.currency != tx.currency:
        raise ReconciliationError(f"invoice {record.number} is in {record.currency}, the transaction in {tx.currency}")
    if invoice.flow_sign != (1 if tx.amount > ZERO else -1):
        side = "incoming" if tx.amount > ZERO else "outgoing"
        raise ReconciliationError(
            f"{side} money cannot pay {record.direction.value} {record.kind.value} {record.number}"
        )
    if record.status is InvoiceStatus.CANCELLED:
        raise ReconciliationError(f"invoice {record.number} is cancelled")
    if invoice.open_amount <= ZERO:
        raise ReconciliationError(f"invoice {record.number} is already paid{_paid_by(session, record)}")
    return record


def _plan(
    records: list[InvoiceRecord], remaining: Decimal, amounts: Sequence[Decimal] | None
) -> list[tuple[InvoiceRecord, Decimal]]:
    if len({r.id for r in records}) != len(records):
        raise ReconciliationError("an invoice is named twice")
    open_amounts = [invoice_from_record(r).open_amount for r in records]
    if amounts is None:
        order = sorted(
            range(len(records)), key=lambda k: (*due_first(records[k].due_date, records[k].issue_date), records[k].id)
        )
        planned, left = [], remaining
        for k in order:
            amount = min(open_amounts[k], left)
            if amount > ZERO:
                planned.append((records[k], amount))
                left -= amount
        return planned
    for record, amount, open_amount in zip(records, amounts, open_amounts, strict=True):
        if amount <= ZERO:
            raise ReconciliationError(f"the amount for {record.number} must be positive")
        if amount > open_amount:
            raise ReconciliationError(f"invoice {record.number} has only {format_amount(open_amount)} open")
    if sum(amounts, ZERO) > remaining:
        raise ReconciliationError(f"the transaction has only {format_amount(remaining)} left to pair")
    return list(zip(records, amounts, strict=True))


def _book(
    session: Session, workspace_id: int, tx: BankTransactionRecord, record: InvoiceRecord, amount: Decimal, actor: str
) -> Booked:
    assert tx.id is not None and record.id is not None
    allocation = AllocationRecord(
        workspace_id=workspace_id,
        transaction_id=tx.id,
        invoice_id=record.id,
        amount=amount,
        currency=tx.currency,
        method=AllocationMethod.MANUAL,
        created_by=actor,
    )
    session.add(allocation)
    record.paid_amount += paid_part(record.gross, amount)
    record.status = status_for(record.gross, record.paid_amount)
    session.flush()
    assert allocation.id is not None
    audit_allocation(
        session,
        workspace_id,
        actor,
        transaction_id=tx.id,
        invoice_id=record.id,
        amount=amount,
        method=AllocationMethod.MANUAL,
        allocation_id=allocation.id,
    )
    return Booked(allocation.id, record.id, record.number, amount)


def _learn(
    session: Session, workspace_id: int, tx: BankTransactionRecord, record: InvoiceRecord, allocation_id: int
) -> None:
    # A person confirmed who paid: next time this account or this name needs no reference.
    taught = [(AliasKind.IBAN, compact_iban(tx.counterparty_iban)), (AliasKind.NAME, tx.counterparty_name)]
    partner_key = tax_key(record.partner_tax_id)
    for kind, value in taught:
        if not value or (kind is AliasKind.NAME and not name_tokens(value)):
            continue
        query = select(PayerAliasRecord).where(
            col(PayerAliasRecord.workspace_id) == workspace_id, col(PayerAliasRecord.kind) == kind,
            col(PayerAliasRecord.value) == value, col(PayerAliasRecord.partner_key) == partner_key,
        )  # fmt: skip
        if session.exec(query).first() is None:
            session.add(
                PayerAliasRecord(
                    workspace_id=workspace_id,
                    kind=kind,
                    value=value,
                    partner_key=partner_key,
                    partner_name=record.partner_name,
                    source_allocation_id=allocation_id,
                )
            )


def _announce(
    session: Session,
    workspace: WorkspaceRecord,
    tx: BankTransactionRecord,
    records: list[InvoiceRecord],
    booked: list[Booked],
    actor: str,
) -> None:
    payload = {
        "transaction": {"id": tx.id, "booking_date": tx.booking_date.isoformat(), "amount": format_amount(tx.amount),
                        "currency": tx.currency, "counterparty_name": tx.counterparty_name, "reference": tx.reference},
        "status": "matched",
        "allocations": [
            {"invoice_id": b.invoice_id, "invoice_number": b.invoice_number, "amount": format_amount(b.amount),
             "open_after": format_amount(invoice_from_record(r).open_amount), "allocation_id": b.allocation_id}
            for r, b in zip(records, booked, strict=True)
        ],
        "by": actor,
    }  # fmt: skip
    key = ",".join(str(b.allocation_id) for b in booked)
    assert workspace.id is not None
    emit(session, workspace.id, EventKind.PAYMENT_MATCHED, f"paired:{key}", payload)
    for record in records:
        if record.kind is InvoiceKind.PROFORMA and record.status is InvoiceStatus.PAID:
            proforma_paid(session, workspace, record, payload, actor)


def _by_whom(session: Session, tx: BankTransactionRecord) -> str:
    query = select(AllocationRecord).where(
        col(AllocationRecord.transaction_id) == tx.id, col(AllocationRecord.undone_at).is_(None)
    )
    allocation = session.exec(query.order_by(col(AllocationRecord.id).desc())).first()
    return f" (by {allocation.created_by})" if allocation else ""


def _paid_by(session: Session, record: InvoiceRecord) -> str:
    query = select(AllocationRecord).where(
        col(AllocationRecord.invoice_id) == record.id, col(AllocationRecord.undone_at).is_(None)
    )
    allocation = session.exec(query.order_by(col(AllocationRecord.id).desc())).first()
    return f" (paired by {allocation.created_by})" if allocation else ""
