"""What ``reconbot invoicing`` reads and changes: the writes listed, invoices found by number, the settings."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.invoicing_tables import OperationKind, OperationStatus
from reconbot.core.persistence.tables import InvoicingMode
from reconbot.core.services.invoicing.imports import import_invoices
from reconbot.core.services.invoicing.lookup import invoice_ids_numbered
from reconbot.core.services.invoicing.operations import queue_operation
from reconbot.core.services.invoicing.overview import recent_operations
from reconbot.core.services.invoicing.sources import update_settings
from reconbot.core.services.workspaces import Workspace, open_workspace
from tests.support.books import INVOICES_HEADER


def _operations(engine: Engine, workspace_id: int, statuses: list[OperationStatus]) -> list[int]:
    ids = []
    with session_scope(engine) as session:
        for n, status in enumerate(statuses):
            record = queue_operation(session, workspace_id, source="billingo", kind=OperationKind.SALE_INVOICE,
                                     key=f"sale:{n}", actor="test", payload={"sale": n})  # fmt: skip
            record.status = status
            assert record.id is not None
            ids.append(record.id)
    return ids


def test_the_writes_waiting_running_or_failed_are_listed_newest_first_and_all_of_them_on_request(
    engine: Engine, workspace_id: int
) -> None:
    statuses = [OperationStatus.DONE, OperationStatus.PENDING, OperationStatus.FAILED, OperationStatus.CANCELLED,
                OperationStatus.RUNNING]  # fmt: skip
    done, pending, failed, cancelled, running = _operations(engine, workspace_id, statuses)
    _operations(engine, open_workspace(engine, "other").id, [OperationStatus.PENDING])

    assert [v.id for v in recent_operations(engine, workspace_id)] == [running, failed, pending]
    everything = recent_operations(engine, workspace_id, finished=True)
    assert [v.id for v in everything] == [running, cancelled, failed, pending, done]
    assert everything[0].payload == {"sale": 4} and everything[0].status is OperationStatus.RUNNING
    assert [v.id for v in recent_operations(engine, workspace_id, finished=True, limit=2)] == [running, cancelled]


def test_invoices_are_found_by_their_exact_number_cancelled_ones_too(
    engine: Engine, workspace_id: int, tmp_path: Path
) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES_HEADER + "A-1,issued,invoice,Kert Bt.,,,,2026-03-01,2026-03-09,1000,HUF,0,issued\n"
                    "A-1,received,invoice,Virág Kft.,,,,2026-03-01,2026-03-09,2000,HUF,0,issued\n"
                    "B-2,issued,invoice,Kert Bt.,,,,2026-03-01,2026-03-09,3000,HUF,0,cancelled\n",
                    encoding="utf-8")  # fmt: skip
    import_invoices(engine, workspace_id, path, actor="test")
    other = open_workspace(engine, "other").id
    import_invoices(engine, other, path, actor="test")

    twice = invoice_ids_numbered(engine, workspace_id, "A-1")
    assert len(twice) == 2 and twice == sorted(twice)
    assert len(invoice_ids_numbered(engine, workspace_id, "B-2")) == 1
    assert invoice_ids_numbered(engine, workspace_id, "a-1") == []  # as typed: a command names one exactly
    assert set(invoice_ids_numbered(engine, other, "A-1")).isdisjoint(twice)


def test_changed_invoicing_settings_come_back_as_the_workspace_now(engine: Engine, workspace_id: int) -> None:
    now = update_settings(engine, workspace_id, actor="test", proforma_mode=InvoicingMode.AUTO,
                          vat_rate=Decimal("5"))  # fmt: skip
    assert isinstance(now, Workspace) and now.id == workspace_id
    assert (now.proforma_mode, now.vat_rate) == (InvoicingMode.AUTO, Decimal("5"))
    again = update_settings(engine, workspace_id, actor="test", sale_mode=InvoicingMode.MANUAL)
    assert (again.proforma_mode, again.sale_mode, again.vat_rate) == (InvoicingMode.AUTO, InvoicingMode.MANUAL,
                                                                      Decimal("5"))  # fmt: skip
