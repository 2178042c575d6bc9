"""Allocations written back to Billingo (a real client against its fake): once, with retries, undone cleanly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.domain import InvoiceStatus
from reconbot.core.persistence.invoicing_tables import OperationKind, OperationStatus, SourceOperationRecord
from reconbot.core.persistence.tables import AllocationRecord, InvoiceRecord, OutboxEventRecord
from reconbot.core.services.invoicing.sources import InvoiceSources
from reconbot.core.services.invoicing.sync import sync_source
from reconbot.core.services.invoicing.write_back import retry_operation, run_due
from reconbot.core.services.reconciliation.pairing import unpair_transaction
from tests.fakes.billingo import FakeBillingo
from tests.fakes.clock import FakeClock


def operations(engine: Engine) -> list[SourceOperationRecord]:
    with Session(engine) as session:
        return list(session.exec(select(SourceOperationRecord).order_by(col(SourceOperationRecord.id))))


def stored_invoice(engine: Engine, number: str) -> InvoiceRecord:
    with Session(engine) as session:
        return session.exec(select(InvoiceRecord).where(col(InvoiceRecord.number) == number)).one()


def events(engine: Engine, kind: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        found = session.exec(select(OutboxEventRecord).where(col(OutboxEventRecord.kind) == kind))
        return [event.payload for event in found]


async def test_an_automatic_pairing_is_written_back_once_and_the_next_sync_agrees(
    engine: Engine, workspace_id: int, sources: InvoiceSources, billingo: FakeBillingo, pay: Callable[..., None]
) -> None:
    document = billingo.seed_invoice("12700", number="INV-2026-000042")
    synced = await sync_source(sources, workspace_id, "billingo", actor="cli:test")
    assert synced.received.stored.new == 1

    pay("12700", "INV-2026-000042")
    [operation] = operations(engine)
    assert (operation.kind, operation.status, operation.source) == (
        OperationKind.REGISTER_PAYMENT, OperationStatus.PENDING, "billingo")  # fmt: skip
    assert stored_invoice(engine, "INV-2026-000042").status is InvoiceStatus.PAID

    done = await run_due(sources)
    again = await run_due(sources)

    assert [d.status for d in done] == [OperationStatus.DONE] and again == []
    [payment] = billingo.payments[document["id"]]
    assert Decimal(str(payment["price"])) == Decimal("12700")
    assert payment["voucher_number"] == f"reconbot-p{operation.allocation_id}"
    assert len(billingo.calls("PUT", f"/documents/{document['id']}/payments")) == 1
    # The system now shows the payment itself: the sync must not count it a second time.
    await sync_source(sources, workspace_id, "billingo", actor="cli:test")
    invoice = stored_invoice(engine, "INV-2026-000042")
    assert (invoice.paid_amount, invoice.status) == (Decimal("12700"), InvoiceStatus.PAID)


async def test_a_sync_before_the_write_back_keeps_the_pairing_counted(
    engine: Engine, workspace_id: int, sources: InvoiceSources, billingo: FakeBillingo, pay: Callable[..., None]
) -> None:
    billingo.seed_invoice("30000", number="INV-2026-000043")
    await sync_source(sources, workspace_id, "billingo", actor="cli:test")
    pay("10000", "INV-2026-000043")

    await sync_source(sources, workspace_id, "billingo", actor="cli:test")  # Billingo shows nothing paid yet

    invoice = stored_invoice(engine, "INV-2026-000043")
    assert (invoice.paid_amount, invoice.status) == (Decimal("10000"), InvoiceStatus.PARTIALLY_PAID)


async def test_a_payment_recorded_in_the_system_shows_here(
    engine: Engine, workspace_id: int, sources: InvoiceSources, billingo: FakeBillingo
) -> None:
    document = billingo.seed_invoice("20000", number="INV-2026-000044")
    await sync_source(sources, workspace_id, "billingo", actor="cli:test")
    billingo.payments[document["id"]] = [{"date": "2026-03-02", "price": 20000, "payment_method": "cash"}]
    billingo.documents[document["id"]]["payment_status"] = "paid"
    billingo.modified[document["id"]] = billingo.clock()

    await sync_source(sources, workspace_id, "billingo", actor="cli:test")

    assert stored_invoice(engine, "INV-2026-000044").status is InvoiceStatus.PAID


async def test_undoing_a_written_pairing_removes_the_payment_from_the_system(
    engine: Engine, workspace_id: int, sources: InvoiceSources, billingo: FakeBillingo, pay: Callable[..., None]
) -> None:
    document = billingo.seed_invoice("12700", number="INV-2026-000045")
    billingo.payments[document["id"]] = []
    await sync_source(sources, workspace_id, "billingo", actor="cli:test")
    pay("12700", "INV-2026-000045")
    await run_due(sources)
    allocation = _only_allocation(engine)

    unpair_transaction(engine, workspace_id, transaction_id=allocation.transaction_id, actor="slack:U1")
    removal = await run_due(sources)

    assert [(r.kind, r.status) for r in removal] == [(OperationKind.REMOVE_PAYMENT, OperationStatus.DONE)]
    assert billingo.payments.get(document["id"], []) == []
    await sync_source(sources, workspace_id, "billingo", actor="cli:test")
    assert stored_invoice(engine, "INV-2026-000045").status is InvoiceStatus.ISSUED


async def test_a_pairing_undone_before_it_was_written_is_never_sent(
    engine: Engine, workspace_id: int, sources: InvoiceSources, billingo: FakeBillingo, pay: Callable[..., None]
) -> None:
    document = billingo.seed_invoice("12700", number="INV-2026-000046")
    await sync_source(sources, workspace_id, "billingo", actor="cli:test")
    pay("12700", "INV-2026-000046")
    unpair_transaction(engine, workspace_id, transaction_id=_only_allocation(engine).transaction_id, actor="cli:x")

    assert await run_due(sources) == []
    assert [o.status for o in operations(engine)] == [OperationStatus.CANCELLED]
    assert billingo.calls("PUT", f"/documents/{document['id']}/payments") == []


async def test_a_write_back_that_keeps_failing_asks_a_person_once_and_retry_succeeds(
    engine: Engine,
    workspace_id: int,
    sources: InvoiceSources,
    billingo: FakeBillingo,
    clock: FakeClock,
    pay: Callable[..., None],
) -> None:
    document = billingo.seed_invoice("12700", number="INV-2026-000047")
    await sync_source(sources, workspace_id, "billingo", actor="cli:test")
    pay("12700", "INV-2026-000047")
    billingo.fail_next(503, times=1000, path="/payments")

    for _ in range(20):  # far more rounds than attempts: the operation must stop by itself
        await run_due(sources)
        clock.advance(hours=3)

    [operation] = operations(engine)
    assert (operation.status, operation.attempts) == (OperationStatus.FAILED, 8)
    assert "HTTP 503" in operation.last_error
    [failed] = events(engine, "write_back_failed")
    assert (failed["operation_id"], failed["invoice_number"]) == (operation.id, "INV-2026-000047")
    assert billingo.payments.get(document["id"], []) == []

    billingo._failures.clear()
    assert operation.id is not None
    retry_operation(sources, workspace_id, operation.id, actor="slack:U1")
    [done] = await run_due(sources)

    assert done.status is OperationStatus.DONE
    assert len(billingo.payments[document["id"]]) == 1
    assert len(events(engine, "write_back_failed")) == 1


async def test_an_invoice_gone_from_the_system_fails_at_once_with_its_reason(
    engine: Engine, workspace_id: int, sources: InvoiceSources, billingo: FakeBillingo, pay: Callable[..., None]
) -> None:
    document = billingo.seed_invoice("12700", number="INV-2026-000048")
    await sync_source(sources, workspace_id, "billingo", actor="cli:test")
    pay("12700", "INV-2026-000048")
    del billingo.documents[document["id"]]

    [failed] = await run_due(sources)

    assert (failed.status, failed.attempts) == (OperationStatus.FAILED, 1)
    assert "not found" in failed.last_error and "billingo" in failed.last_error


async def test_two_workers_running_the_queue_at_once_write_each_payment_once(
    engine: Engine, workspace_id: int, sources: InvoiceSources, billingo: FakeBillingo, pay: Callable[..., None]
) -> None:
    import asyncio

    documents = [billingo.seed_invoice(f"{1000 + k}", number=f"INV-2026-00010{k}") for k in range(4)]
    await sync_source(sources, workspace_id, "billingo", actor="cli:test")
    for k in range(4):
        pay(f"{1000 + k}", f"INV-2026-00010{k}")

    first, second = await asyncio.gather(run_due(sources), run_due(sources))

    assert sum(v.status is OperationStatus.DONE for v in first + second) >= 4
    assert [len(billingo.payments[d["id"]]) for d in documents] == [1, 1, 1, 1]
    assert all(o.attempts == 1 for o in operations(engine))


async def test_a_crashed_worker_s_claim_is_taken_over_and_finds_the_payment_it_made(
    engine: Engine,
    workspace_id: int,
    sources: InvoiceSources,
    billingo: FakeBillingo,
    clock: FakeClock,
    pay: Callable[..., None],
) -> None:
    from reconbot.core.services.invoicing.write_back import run_operation

    document = billingo.seed_invoice("12700", number="INV-2026-000049")
    await sync_source(sources, workspace_id, "billingo", actor="cli:test")
    pay("12700", "INV-2026-000049")
    [operation] = operations(engine)
    assert operation.id is not None
    await run_operation(sources, operation.id)  # the payment reaches Billingo …
    with Session(engine) as session:  # … and the process dies before it records that
        record = session.get(SourceOperationRecord, operation.id)
        assert record is not None
        record.status, record.claimed_at = OperationStatus.RUNNING, clock()
        session.commit()

    assert await run_due(sources) == []  # a fresh claim is respected
    clock.advance(minutes=11)
    [taken_over] = await run_due(sources)

    assert taken_over.status is OperationStatus.DONE and taken_over.result["already"] is True
    assert len(billingo.payments[document["id"]]) == 1


def _only_allocation(engine: Engine) -> AllocationRecord:
    with Session(engine) as session:
        return session.exec(select(AllocationRecord)).one()


def test_waits_grow_between_attempts() -> None:
    from reconbot.core.services.invoicing.write_back import _wait

    assert [_wait(n) for n in (1, 2, 3, 4, 5, 9)] == [30, 120, 480, 1920, 7200, 7200]
    assert timedelta(seconds=_wait(1)) < timedelta(minutes=1)


async def test_an_own_system_that_does_not_show_reconbot_s_pairings_cannot_undo_them(
    engine: Engine, workspace_id: int, pay: Callable[..., None]
) -> None:
    from datetime import date

    from reconbot.core.domain import Direction, Invoice, InvoiceKind
    from reconbot.core.invoicing.model import SourceInvoice
    from reconbot.core.services.invoicing.sources import save_credentials
    from reconbot.core.services.invoicing.sync import receive_invoices

    save_credentials(engine, workspace_id, "own", {}, actor="cli:test")
    sent = Invoice("inv-9", "OWN-2026-9", Direction.ISSUED, InvoiceKind.INVOICE, Decimal("9000"), "HUF",
                   partner_name="Kovács Kft.", issue_date=date(2026, 3, 1))  # fmt: skip
    receive_invoices(engine, workspace_id, "own", [SourceInvoice(sent)], actor="own:webhook")
    pay("9000", "OWN-2026-9")
    assert stored_invoice(engine, "OWN-2026-9").status is InvoiceStatus.PAID

    receive_invoices(engine, workspace_id, "own", [SourceInvoice(sent)], actor="own:webhook")  # still says unpaid

    invoice = stored_invoice(engine, "OWN-2026-9")
    assert (invoice.paid_amount, invoice.status) == (Decimal("9000"), InvoiceStatus.PAID)
    assert operations(engine) == []  # nothing to write back to: the own system has no API reconbot calls


async def test_the_scheduled_jobs_pull_every_workspace_and_drain_the_queue(
    engine: Engine, workspace_id: int, sources: InvoiceSources, billingo: FakeBillingo, pay: Callable[..., None]
) -> None:
    from reconbot.core.services.jobs.invoicing import pull_job, write_back_job

    document = billingo.seed_invoice("4500", number="INV-2026-000050")
    await pull_job(sources)
    pay("4500", "INV-2026-000050")

    assert await write_back_job(sources) == 1
    assert await write_back_job(sources) == 0
    assert len(billingo.payments[document["id"]]) == 1
