"""The invoicing page through the real web app: credentials (never shown back), test connection, sync now,
the modes, an own system's webhook secret shown once, and the all-or-nothing CSV upload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from reconbot.core.persistence.tables import AuditEventRecord, InvoiceRecord, InvoicingMode, WorkspaceRecord
from reconbot.core.roles import Role
from tests.fakes.billingo import API_KEY as BILLINGO_KEY
from tests.fakes.billingo import FakeBillingo
from tests.fakes.server import serve
from tests.support.panel import Panel, Visitor

DEMO_INVOICES = Path(__file__).resolve().parents[2] / "reconbot" / "samples" / "demo_invoices.csv"


@pytest.fixture
async def billingo(panel: Panel) -> AsyncIterator[tuple[FakeBillingo, str]]:
    """A served fake Billingo, not yet connected; yields it and its API address."""
    fake = FakeBillingo(clock=panel.clock)
    async with serve(fake.app) as url:
        yield fake, f"{url}/v3"


async def upload(visitor: Visitor, name: str, content: bytes) -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("csrf_token", visitor.csrf)
    form.add_field("file", content, filename=name, content_type="text/csv")
    async with visitor.http.post(visitor.base + "/invoicing/upload", data=form) as response:
        return response.status, unescape(await response.text())


def invoice_count(panel: Panel) -> int:
    with Session(panel.engine) as session:
        return int(session.exec(select(func.count()).select_from(InvoiceRecord)).one())


async def test_billingo_is_connected_tested_and_synced_and_its_key_never_shown(
    panel: Panel, billingo: tuple[FakeBillingo, str]
) -> None:
    fake, api = billingo
    owner = await panel.visitor()
    status, body = await owner.post("/invoicing/billingo/credentials", {"api_key": BILLINGO_KEY, "base_url": api})
    assert status == 200 and "Billingo: credentials saved" in body and "••••" in body and BILLINGO_KEY not in body
    status, body = await owner.post("/invoicing/billingo/check")
    assert status == 200 and "connection works (Billingo organisation 12345678-2-42)" in body
    fake.seed_invoice("25400")
    status, body = await owner.post("/invoicing/billingo/sync")
    assert status == 200 and "Billingo: 1 new, 0 updated" in body and invoice_count(panel) == 1
    status, body = await owner.get("/invoicing")
    assert BILLINGO_KEY not in body and BILLINGO_KEY[-4:] in body and "Last sync: never" not in body
    # Changing another field keeps the stored key: the check still passes.
    status, body = await owner.post("/invoicing/billingo/credentials", {"api_key": "", "block_id": "9101"})
    assert status == 200 and "block_id: 9101" in body
    assert "connection works" in (await owner.post("/invoicing/billingo/check"))[1]


async def test_a_wrong_key_fails_the_test_with_one_clear_message(
    panel: Panel, billingo: tuple[FakeBillingo, str]
) -> None:
    _, api = billingo
    owner = await panel.visitor()
    wrong = "bk-wrong-0000000000000000000000000000"
    await owner.post("/invoicing/billingo/credentials", {"api_key": wrong, "base_url": api})
    status, body = await owner.post("/invoicing/billingo/check")
    assert status == 400 and "Connection failed" in body and wrong not in body
    status, body = await owner.post("/invoicing/fakturownia/credentials", {"api_token": "tok-1234567890abcdef"})
    assert status == 400 and "missing account" in body


async def test_an_own_systems_webhook_secret_is_shown_once(panel: Panel) -> None:
    owner = await panel.visitor()
    status, body = await owner.post("/invoicing/own/credentials")
    assert status == 200 and "Webhook secret" in body and f"{panel.url}/hooks/own/" in body
    secret = body.split("Webhook secret: <code>")[1].split("</code>")[0]
    assert len(secret) > 30
    status, body = await owner.get("/invoicing")
    assert status == 200 and "Own invoicing system" in body and secret not in body and secret[-4:] in body


async def test_modes_are_saved_audited_and_a_bad_one_changes_nothing(panel: Panel) -> None:
    owner = await panel.visitor()
    status, body = await owner.post("/invoicing/settings", {"sale_mode": "manual", "proforma_mode": "auto",
                                                            "sale_source": ""})  # fmt: skip
    assert status == 200 and "Invoicing settings saved." in body
    with Session(panel.engine) as session:
        workspace = session.get_one(WorkspaceRecord, panel.workspace_id)
        assert (workspace.sale_mode, workspace.proforma_mode) == (InvoicingMode.MANUAL, InvoicingMode.AUTO)
        assert session.exec(select(AuditEventRecord).where(
            col(AuditEventRecord.action) == "workspace.invoicing_settings")).first() is not None  # fmt: skip
    status, body = await owner.post("/invoicing/settings", {"sale_mode": "sometimes", "proforma_mode": "manual"})
    assert status == 400 and "Choose auto or manual" in body
    status, body = await owner.post("/invoicing/settings", {"sale_mode": "auto", "proforma_mode": "manual",
                                                            "sale_source": "own"})  # fmt: skip
    assert status == 400 and "cannot issue invoices" in unescape(body)
    with Session(panel.engine) as session:
        workspace = session.get_one(WorkspaceRecord, panel.workspace_id)
        assert (workspace.sale_mode, workspace.proforma_mode) == (InvoicingMode.MANUAL, InvoicingMode.AUTO)


async def test_a_good_csv_is_imported_and_a_bad_one_imports_nothing(panel: Panel) -> None:
    owner = await panel.visitor()
    good = DEMO_INVOICES.read_bytes()
    lines = good.decode().splitlines()
    bad = "\n".join([*lines[:3], lines[3].replace(lines[3].split(",")[0], "", 1).replace(",issued,", ",sideways,", 1),
                     *lines[4:]]) + "\n"  # fmt: skip
    status, body = await upload(owner, "INVOICES.csv", bad.encode())
    assert status == 400 and "Nothing was imported." in body and "INVOICES.csv" in body and body.count("<h1>") == 1
    assert invoice_count(panel) == 0
    status, body = await upload(owner, "../../INVOICES.csv", good)
    rows = len(lines) - 1
    assert status == 200 and f"INVOICES.csv: {rows} invoices, {rows} new" in body and invoice_count(panel) == rows
    status, body = await upload(owner, "empty.csv", b"")
    assert status == 400 and "Nothing was imported." in body


async def test_only_owners_and_admins_reach_the_invoicing_page(panel: Panel) -> None:
    for role in (Role.ACCOUNTANT, Role.ACCOUNTANT_INVOICING, Role.INVOICING, Role.OPERATOR):
        visitor = await panel.visitor(role)
        assert (await visitor.get("/invoicing"))[0] == 403
        assert (await visitor.post("/invoicing/own/credentials"))[0] == 403
        assert (await visitor.post("/invoicing/settings", {"sale_mode": "manual", "proforma_mode": "auto"}))[0] == 403
        assert (await upload(visitor, "INVOICES.csv", DEMO_INVOICES.read_bytes()))[0] == 403
    assert invoice_count(panel) == 0
    admin = await panel.visitor(Role.ADMIN)
    assert (await admin.get("/invoicing"))[0] == 200
