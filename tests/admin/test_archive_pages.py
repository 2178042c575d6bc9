"""The archive pages: search inside PDFs, versions, logged and hash-checked downloads, approval by role."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from reconbot.core.archive.storage import storage_from_settings
from reconbot.core.persistence.tables import InvoiceRecord
from reconbot.core.roles import Role
from reconbot.core.services.archive.filing import archive_pdf
from reconbot.core.services.invoicing.imports import import_invoices
from tests.fakes.pdf import pdf_with_text
from tests.support.books import INVOICES_HEADER
from tests.support.panel import Panel

INVOICES = INVOICES_HEADER + (
    "E-2026-7,issued,invoice,Fekete Bt.,23456789-2-13,,,2026-02-20,2026-03-06,127000,HUF,0,issued\n"
    "D-2026-3,issued,proforma,Zöld Liget Zrt.,,,,2026-02-25,2026-03-10,350000,HUF,0,issued\n"
)


@pytest.fixture
def archived(panel: Panel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Archive a PDF of an invoice and of a proforma (which waits for approval); return their document ids."""
    monkeypatch.setenv("RECONBOT_ARCHIVE_DIR", str(tmp_path / "archive"))
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES, encoding="utf-8")
    import_invoices(panel.engine, panel.workspace_id, path, actor="test")
    with Session(panel.engine) as session:
        ids = {r.number: r.id for r in session.exec(select(InvoiceRecord).order_by(col(InvoiceRecord.id)))}
    documents = {}
    # Words the test PDFs can carry (their font encoding is cp1252: no ő or ű).
    for number, words in (("E-2026-7", "Sövénynyírás és gyepszellőztetés"), ("D-2026-3", "Kerti tó építése")):
        invoice_id = ids[number]
        assert invoice_id is not None
        pdf = pdf_with_text(f"{number} {words}")
        done = archive_pdf(panel.engine, storage_from_settings(), panel.workspace_id, invoice_id, pdf,
                           source="fetched", actor="test", now=panel.clock())  # fmt: skip
        documents[number] = done.document.id
    return documents


async def test_search_finds_an_invoice_by_a_word_in_its_pdf_and_a_download_is_logged(
    panel: Panel, archived: dict[str, int]
) -> None:
    clerk = await panel.visitor(Role.INVOICING)
    status, body = await clerk.get("/archive?q=sövénynyírás")
    assert status == 200 and "E-2026-7" in body and "Paid by" not in body  # no bank data for invoicing roles
    async with clerk.http.get(panel.url + f"/archive/documents/{archived['E-2026-7']}/pdf") as response:
        assert response.status == 200 and response.content_type == "application/pdf"
        assert (await response.read()).startswith(b"%PDF-")
    owner = await panel.visitor()
    invoice_id = body.split('<td><a href="/archive/invoices/')[1].split('"')[0]  # the search hit's link
    _, page = await owner.get(f"/archive/invoices/{invoice_id}")
    assert "E-2026-7" in page and "Downloaded: web:invoicing.tester@kert.test" in page


async def test_a_proforma_waits_for_approval_by_an_invoicing_role_before_it_is_searchable(
    panel: Panel, archived: dict[str, int]
) -> None:
    owner = await panel.visitor()
    _, body = await owner.get("/archive?q=építése")
    assert "Nothing in the archive matches" in body and "Waiting for approval" in body
    operator = await panel.visitor(Role.OPERATOR)
    assert (await operator.post(f"/archive/documents/{archived['D-2026-3']}/approve"))[0] == 403
    clerk = await panel.visitor(Role.INVOICING)
    status, body = await clerk.post(f"/archive/documents/{archived['D-2026-3']}/approve")
    assert status == 200 and "Version 1 of D-2026-3 is archived." in body
    _, body = await owner.get("/archive?q=építése")
    assert "D-2026-3" in body and "Nothing in the archive matches" not in body


async def test_a_changed_file_is_refused_on_download(panel: Panel, archived: dict[str, int], tmp_path: Path) -> None:
    (stored,) = [p for p in (tmp_path / "archive").rglob("*") if p.is_file() and b"E-2026-7" in p.read_bytes()]
    os.chmod(stored, 0o644)
    stored.write_bytes(stored.read_bytes().replace(b"E-2026-7", b"E-2026-1"))  # same size, other bytes
    owner = await panel.visitor()
    status, body = await owner.get(f"/archive/documents/{archived['E-2026-7']}/pdf")
    assert status == 409 and "The stored file was changed" in body


async def test_owners_choose_what_is_archived_at_once(panel: Panel, archived: dict[str, int]) -> None:
    from reconbot.core.services.archive.rules import archive_rules

    owner = await panel.visitor()
    status, body = await owner.post("/archive/rules", {"auto": ["invoice", "proforma"]})
    assert status == 200 and "Archived at once from now on: invoice, proforma" in body
    assert {k.value for k in archive_rules(panel.engine, panel.workspace_id)} == {"invoice", "proforma"}
    clerk = await panel.visitor(Role.INVOICING)
    assert (await clerk.post("/archive/rules", {"auto": ["invoice"]}))[0] == 403
    assert (await owner.post("/archive/rules", {"auto": ["receipt"]}))[0] == 400


async def test_search_follows_an_invoice_whose_partner_changed_after_archiving(
    panel: Panel, archived: dict[str, int], tmp_path: Path
) -> None:
    from reconbot.core.services.archive.search import search

    path = tmp_path / "invoices-again.csv"
    path.write_text(INVOICES.replace("Fekete Bt.", "Fekete és Fia Bt."), encoding="utf-8")
    import_invoices(panel.engine, panel.workspace_id, path, actor="test")
    assert [hit.number for hit in search(panel.engine, panel.workspace_id, "Fia")] == ["E-2026-7"]


async def test_control_characters_in_a_search_find_nothing_instead_of_failing(
    panel: Panel, archived: dict[str, int]
) -> None:
    owner = await panel.visitor()
    for query in ("x%00y", "%22", "NEAR", "-sövénynyírás", "a%0Ab"):
        status, _ = await owner.get(f"/archive?q={query}")
        assert status == 200, query
    assert (await owner.get("/handoff?after=zzz"))[0] == 400
