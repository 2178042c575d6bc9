"""A paid proforma gives exactly one final invoice, in each system (real clients against their fakes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.domain import InvoiceKind, InvoiceStatus
from reconbot.core.errors import ReconciliationError
from reconbot.core.persistence.invoicing_tables import OperationKind, OperationStatus, SourceOperationRecord
from reconbot.core.persistence.tables import InvoiceRecord, InvoicingMode, OutboxEventRecord
from reconbot.core.services.invoicing.proformas import issue_final_invoice
from reconbot.core.services.invoicing.sources import InvoiceSources, update_settings
from reconbot.core.services.invoicing.sync import look_up_unknown_numbers, sync_source
from reconbot.core.services.invoicing.write_back import run_due


@dataclass
class System:
    """One invoicing system's fake, seen the same way by every test."""

    name: str
    fake: Any
    seed_proforma: Callable[[str, str], None]
    finals_made: Callable[[], int]
    currency: str = "HUF"


@pytest.fixture(params=["billingo", "fakturownia", "szamlazz"])
def system(request: pytest.FixtureRequest) -> System:
    name = request.param
    fake = request.getfixturevalue(name)
    if name == "billingo":
        return System(name, fake, lambda number, gross: fake.seed_proforma(gross, number=number) and None,
                      lambda: len(fake.calls("POST", next(iter(_proforma_paths(fake)), "-"))))  # fmt: skip
    if name == "fakturownia":
        buyer = "Kowalski sp. z o.o."
        return System(name, fake, lambda number, gross: fake.add_proforma(number, gross, buyer_name=buyer) and None,
                      lambda: sum(1 for r in fake.requests if r.method == "POST" and r.path == "/invoices.json"),
                      "PLN")  # fmt: skip
    return System(name, fake, lambda number, gross: fake.add_proforma(number, gross) and None,
                  lambda: len([d for d in fake.created() if not d.settings.get("dijbekero")]))  # fmt: skip


def _proforma_paths(fake: Any) -> list[str]:
    return [f"/documents/{d['id']}/create-from-proforma" for d in fake.documents.values() if d["type"] == "proforma"]


async def _make_known(sources: InvoiceSources, workspace_id: int, system: System) -> None:
    # Billingo and Fakturownia are pulled; Számlázz.hu has no list call: the bank reference's number is looked up.
    if system.name == "szamlazz":
        assert await look_up_unknown_numbers(sources, workspace_id, "szamlazz", actor="test") == 1
    else:
        await sync_source(sources, workspace_id, system.name, actor="test")


def _stored(engine: Engine, **where: Any) -> list[InvoiceRecord]:
    with Session(engine) as session:
        query = select(InvoiceRecord)
        for name, value in where.items():
            query = query.where(col(getattr(InvoiceRecord, name)) == value)
        return list(session.exec(query.order_by(col(InvoiceRecord.id))))


def _events(engine: Engine, kind: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        found = session.exec(select(OutboxEventRecord).where(col(OutboxEventRecord.kind) == kind))
        return [event.payload for event in found]


async def test_auto_mode_issues_one_final_invoice_when_the_payment_arrives(
    engine: Engine, workspace_id: int, sources: InvoiceSources, system: System, pay: Callable[..., None]
) -> None:
    update_settings(engine, workspace_id, actor="test", proforma_mode=InvoicingMode.AUTO)
    system.seed_proforma("D-KERT-2026-7", "50000")
    if system.name != "szamlazz":
        await _make_known(sources, workspace_id, system)
    pay("50000", "Dijbekero D-KERT-2026-7", currency=system.currency)
    if system.name == "szamlazz":
        await _make_known(sources, workspace_id, system)

    [proforma] = _stored(engine, number="D-KERT-2026-7")
    assert (proforma.kind, proforma.status) == (InvoiceKind.PROFORMA, InvoiceStatus.PAID)
    first = await run_due(sources)
    second = await run_due(sources)

    assert sorted(v.kind for v in first) == sorted([OperationKind.REGISTER_PAYMENT, OperationKind.FINAL_INVOICE])
    assert all(v.status is OperationStatus.DONE for v in first), [v.last_error for v in first]
    assert second == [] and system.finals_made() == 1
    [final] = _stored(engine, kind=InvoiceKind.INVOICE)
    assert (final.status, final.gross, final.source) == (InvoiceStatus.PAID, proforma.gross, system.name)
    [issued] = _events(engine, "final_invoice_issued")
    assert (issued["number"], issued["proforma_number"]) == (final.number, "D-KERT-2026-7")
    [announced] = _events(engine, "proforma_paid")
    assert announced["mode"] == "auto"


async def test_manual_mode_waits_for_the_button_and_a_second_press_changes_nothing(
    engine: Engine, workspace_id: int, sources: InvoiceSources, system: System, pay: Callable[..., None]
) -> None:
    system.seed_proforma("D-KERT-2026-8", "25400")
    if system.name != "szamlazz":
        await _make_known(sources, workspace_id, system)
    pay("25400", "D-KERT-2026-8", currency=system.currency)
    if system.name == "szamlazz":
        await _make_known(sources, workspace_id, system)
    await run_due(sources)

    assert system.finals_made() == 0
    [announced] = _events(engine, "proforma_paid")
    assert (announced["mode"], announced["can_issue"]) == ("manual", True)
    [proforma] = _stored(engine, number="D-KERT-2026-8")
    assert proforma.id is not None

    pressed = await issue_final_invoice(sources, workspace_id, proforma.id, actor="slack:U1")
    again = await issue_final_invoice(sources, workspace_id, proforma.id, actor="telegram:42")

    assert pressed.status is OperationStatus.DONE and pressed.id == again.id
    assert again.result["number"] == pressed.result["number"]
    assert system.finals_made() == 1
    assert len(_stored(engine, kind=InvoiceKind.INVOICE)) == 1


async def test_a_timeout_after_the_system_made_the_final_invoice_does_not_make_a_second(
    engine: Engine, workspace_id: int, sources: InvoiceSources, system: System, pay: Callable[..., None]
) -> None:
    system.seed_proforma("D-KERT-2026-9", "12700")
    if system.name != "szamlazz":
        await _make_known(sources, workspace_id, system)
    pay("12700", "D-KERT-2026-9", currency=system.currency)
    if system.name == "szamlazz":
        await _make_known(sources, workspace_id, system)
    await run_due(sources)
    [proforma] = _stored(engine, number="D-KERT-2026-9")
    assert proforma.id is not None
    system.fake.stall_next_create(1.5)  # longer than the client's 0.5 s timeout

    timed_out = await issue_final_invoice(sources, workspace_id, proforma.id, actor="slack:U1", timeout=0)
    assert (timed_out.status, timed_out.attempts) == (OperationStatus.PENDING, 1)
    assert "not retried" in timed_out.last_error
    sources.clock.advance(minutes=1)  # type: ignore[attr-defined]
    [retried] = await run_due(sources)

    assert retried.status is OperationStatus.DONE, retried.last_error
    assert system.finals_made() == 1


async def test_an_unpaid_or_foreign_proforma_gets_no_final_invoice(
    engine: Engine, workspace_id: int, sources: InvoiceSources, billingo: Any, pay: Callable[..., None]
) -> None:
    billingo.seed_proforma("40000", number="D-KERT-2026-10")
    await sync_source(sources, workspace_id, "billingo", actor="test")
    pay("10000", "D-KERT-2026-10")
    [proforma] = _stored(engine, number="D-KERT-2026-10")
    assert proforma.id is not None

    with pytest.raises(ReconciliationError, match="not fully paid"):
        await issue_final_invoice(sources, workspace_id, proforma.id, actor="slack:U1")
    with Session(engine) as session:
        finals = session.exec(select(SourceOperationRecord).where(
            col(SourceOperationRecord.kind) == OperationKind.FINAL_INVOICE)).all()  # fmt: skip
    assert finals == []
