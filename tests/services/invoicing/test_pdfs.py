"""Invoice PDFs: each system's ``fetch_pdf`` against its fake, ``fetch_invoice_pdf`` over stored invoices, and the
own system's invoice events carrying their PDF (``data.pdf_base64``) to the app's PDF sink."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.admin.app import create_app
from reconbot.admin.invoice_webhooks import PDF_SINK_KEY, PdfSink
from reconbot.core.errors import ProviderError
from reconbot.core.invoicing.model import DocumentRef
from reconbot.core.invoicing.own_system import MAX_EVENT_BYTES, MAX_PDF_BYTES, SIGNATURE_HEADER, parse_invoice, sign
from reconbot.core.invoicing.szamlazz import AgentError
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import InvoiceRecord
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.invoicing.imports import import_invoices
from reconbot.core.services.invoicing.pdfs import fetch_invoice_pdf
from reconbot.core.services.invoicing.sources import InvoiceSources, save_credentials
from reconbot.core.services.invoicing.sync import receive_invoices, sync_source
from reconbot.core.services.workspaces import ensure_workspace
from tests.fakes.billingo import FakeBillingo
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.fakturownia import FakeFakturownia
from tests.fakes.pdf import pdf_with_text
from tests.fakes.server import free_port, serve
from tests.fakes.szamlazz import FakeSzamlazz

SLUG = "kert"


def pdf_text(pdf: bytes) -> str:
    """Return the text of the PDF's first page, read strictly (a broken xref table fails here)."""
    return PdfReader(io.BytesIO(pdf), strict=True).pages[0].extract_text()


def stored(engine: Engine, number: str) -> InvoiceRecord:
    with Session(engine) as session:
        found = session.exec(select(InvoiceRecord).where(col(InvoiceRecord.number) == number)).one()
    return found


# --- the PDF the fakes serve ---------------------------------------------------------------------------------


def test_the_fakes_pdf_is_a_valid_pdf_showing_its_text() -> None:
    pdf = pdf_with_text("Számla E-RB-2026-7 (teszt)")

    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf_text(pdf) == "Számla E-RB-2026-7 (teszt)"


# --- each system's fetch_pdf ---------------------------------------------------------------------------------


async def test_billingo_downloads_the_document_pdf(
    sources: InvoiceSources, workspace_id: int, billingo: FakeBillingo
) -> None:
    document = billingo.seed_invoice(number="INV-2026-000042")
    client = sources.source(workspace_id, "billingo")
    try:
        pdf = await client.fetch_pdf(DocumentRef(str(document["id"]), "INV-2026-000042"))
    finally:
        await client.aclose()

    assert pdf.startswith(b"%PDF-") and "INV-2026-000042" in pdf_text(pdf)
    [call] = billingo.calls("GET", f"/documents/{document['id']}/download")
    assert call.headers["Accept"] == "application/pdf"


async def test_billingo_unknown_document_is_permanent_and_not_ready_yet_is_not(
    sources: InvoiceSources, workspace_id: int, billingo: FakeBillingo
) -> None:
    document = billingo.seed_invoice(number="INV-2026-000043")
    billingo.pdf_not_ready(document["id"])
    client = sources.source(workspace_id, "billingo")
    try:
        with pytest.raises(ProviderError) as unknown:
            await client.fetch_pdf(DocumentRef("99999", "INV-2026-404"))
        with pytest.raises(ProviderError) as not_ready:
            await client.fetch_pdf(DocumentRef(str(document["id"]), "INV-2026-000043"))
        later = await client.fetch_pdf(DocumentRef(str(document["id"]), "INV-2026-000043"))
    finally:
        await client.aclose()

    assert (unknown.value.permanent, unknown.value.status) == (True, 404)
    assert "99999 not found" in str(unknown.value)
    assert (not_ready.value.permanent, not_ready.value.status) == (False, 202)
    assert "not ready yet" in str(not_ready.value)
    assert "INV-2026-000043" in pdf_text(later)  # the next attempt gets it


async def test_billingo_outage_is_temporary(sources: InvoiceSources, workspace_id: int, billingo: FakeBillingo) -> None:
    document = billingo.seed_invoice()
    billingo.fail_next(503, times=10, path="/download")
    client = sources.source(workspace_id, "billingo")
    try:
        with pytest.raises(ProviderError) as failed:
            await client.fetch_pdf(DocumentRef(str(document["id"]), document["invoice_number"]))
    finally:
        await client.aclose()

    assert failed.value.permanent is False


async def test_fakturownia_downloads_the_invoice_pdf_and_unknown_ids_are_permanent(
    sources: InvoiceSources, workspace_id: int, fakturownia: FakeFakturownia
) -> None:
    doc = fakturownia.add_invoice("FV 7/03/2026", "1230.00")
    client = sources.source(workspace_id, "fakturownia")
    try:
        pdf = await client.fetch_pdf(DocumentRef(str(doc["id"]), "FV 7/03/2026"))
        with pytest.raises(ProviderError) as unknown:
            await client.fetch_pdf(DocumentRef("424242", "FV 404"))
        with pytest.raises(ProviderError) as no_id:
            await client.fetch_pdf(DocumentRef("", "FV 7/03/2026"))
    finally:
        await client.aclose()

    assert pdf.startswith(b"%PDF-") and "FV 7/03/2026" in pdf_text(pdf)
    [call] = [r for r in fakturownia.requests if r.path == f"/invoices/{doc['id']}.pdf"]
    assert call.api_token == fakturownia.api_token and call.headers["Accept"] == "application/pdf"
    assert (unknown.value.permanent, unknown.value.status) == (True, 404)
    assert no_id.value.permanent is True and len(fakturownia.requests) == 2  # refused before asking


async def test_szamlazz_asks_the_agent_for_the_pdf_by_number(
    sources: InvoiceSources, workspace_id: int, szamlazz: FakeSzamlazz
) -> None:
    szamlazz.add_invoice("E-RB-2026-7")
    client = sources.source(workspace_id, "szamlazz")
    try:
        pdf = await client.fetch_pdf(DocumentRef("", "E-RB-2026-7"))
        with pytest.raises(AgentError) as unknown:
            await client.fetch_pdf(DocumentRef("", "E-RB-2026-404"))
        szamlazz.fail_next(code=1, message="Karbantartás", operation="pdf")
        with pytest.raises(AgentError) as maintenance:
            await client.fetch_pdf(DocumentRef("", "E-RB-2026-7"))
    finally:
        await client.aclose()

    assert pdf.startswith(b"%PDF-") and "E-RB-2026-7" in pdf_text(pdf)
    request = szamlazz.requests[0]
    assert (request.field, request.operation) == ("action-szamla_agent_pdf", "pdf")
    assert request.children() == ["szamlaagentkulcs", "szamlaszam", "valaszVerzio"]
    assert (request.text("szamlaszam"), request.text("valaszVerzio")) == ("E-RB-2026-7", "1")
    assert (unknown.value.permanent, unknown.value.code) == (True, 7)
    assert (maintenance.value.permanent, maintenance.value.code) == (False, 1)


# --- fetch_invoice_pdf over stored invoices ------------------------------------------------------------------


async def test_fetch_invoice_pdf_finds_each_stored_invoice_s_system(
    engine: Engine,
    sources: InvoiceSources,
    workspace_id: int,
    billingo: FakeBillingo,
    fakturownia: FakeFakturownia,
    szamlazz: FakeSzamlazz,
) -> None:
    billingo.seed_invoice(number="INV-2026-000050")
    fakturownia.add_invoice("FV 50/03/2026", "615.00")
    szamlazz.add_invoice("E-RB-2026-50")
    await sync_source(sources, workspace_id, "billingo", actor="test")
    await sync_source(sources, workspace_id, "fakturownia", actor="test")
    client = sources.source(workspace_id, "szamlazz")  # no list call: its invoices come by push or lookup
    try:
        found = await client.invoice_by_number("E-RB-2026-50")
    finally:
        await client.aclose()
    assert found is not None
    receive_invoices(engine, workspace_id, "szamlazz", [found], actor="test")

    for number in ("INV-2026-000050", "FV 50/03/2026", "E-RB-2026-50"):
        invoice_id = stored(engine, number).id
        assert invoice_id is not None
        pdf = await fetch_invoice_pdf(sources, workspace_id, invoice_id)
        assert number in pdf_text(pdf), number


async def test_fetch_invoice_pdf_refuses_own_system_file_imports_and_other_workspaces(
    engine: Engine, sources: InvoiceSources, workspace_id: int, billingo: FakeBillingo, tmp_path: Path
) -> None:
    csv = tmp_path / "INVOICES.csv"
    csv.write_text(
        "number,direction,kind,partner_name,partner_tax_id,partner_iban,order_number,issue_date,due_date,"
        "gross_amount,currency,paid_amount,status\n"
        "CSV-1,issued,invoice,Kovács Kft.,,,,2026-03-01,2026-03-09,12700,HUF,0,issued\n",
        encoding="utf-8",
    )
    import_invoices(engine, workspace_id, csv, actor="test")
    billingo.seed_invoice(number="INV-2026-000051")
    await sync_source(sources, workspace_id, "billingo", actor="test")
    with session_scope(engine) as session:
        other = ensure_workspace(session, "masik", name="Másik Kft.", country="HU", currency="HUF")
    assert other.id is not None
    own = parse_invoice({"id": "own-1", "number": "OWN-1", "gross": "100", "currency": "HUF",
                         "issue_date": "2026-03-01"}, "data")  # fmt: skip
    receive_invoices(engine, workspace_id, "own", [own], actor="test")

    failures = {}
    for label, workspace, number in (("csv", workspace_id, "CSV-1"), ("own", workspace_id, "OWN-1"),
                                     ("other workspace", other.id, "INV-2026-000051")):  # fmt: skip
        invoice_id = stored(engine, number).id
        assert invoice_id is not None
        with pytest.raises(ProviderError) as refused:
            await fetch_invoice_pdf(sources, workspace, invoice_id)
        failures[label] = refused.value

    assert all(error.permanent for error in failures.values())
    assert "csv file import" in str(failures["csv"])
    assert "own invoicing system" in str(failures["own"]) and "pdf_base64" in str(failures["own"])
    assert "not found" in str(failures["other workspace"])
    assert not [r for r in billingo.requests if r.path.endswith("/download")]  # no system was asked


# --- the own system's PDFs by webhook -------------------------------------------------------------------------


@dataclass
class Sink:
    """A PDF sink recording what it was handed; ``fail`` makes the next call raise."""

    received: list[tuple[int, str, bytes]] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, workspace_id: int, number: str, pdf: bytes) -> None:
        if self.fail:
            self.fail = False
            raise OSError("disk full")
        self.received.append((workspace_id, number, pdf))


@dataclass
class Own:
    client: httpx.AsyncClient
    clock: FakeClock
    secret: str
    sink: Sink

    async def send(self, event: dict[str, Any] | bytes, *, secret: str | None = None) -> httpx.Response:
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        header = sign(secret or self.secret, body, int(self.clock().timestamp()))
        return await self.client.post(f"/hooks/own/{SLUG}", content=body, headers={SIGNATURE_HEADER: header})


def event_with_pdf(event_id: str, pdf: bytes | str, *, kind: str = "invoice.created") -> dict[str, Any]:
    encoded = pdf if isinstance(pdf, str) else base64.b64encode(pdf).decode()
    data = {"id": "inv-42", "number": "OWN-2026-0042", "gross": "12700", "currency": "HUF",
            "issue_date": "2026-03-01", "pdf_base64": encoded}  # fmt: skip
    return {"id": event_id, "type": kind, "data": data}


async def serve_app(
    engine: Engine, clock: FakeClock, sleeps: RecordingSleep, sources: InvoiceSources
) -> web.Application:
    port = free_port()
    feeds = BankFeeds(engine, clock=clock, sleep=sleeps, public_url=f"http://127.0.0.1:{port}")
    return create_app(feeds, sources)


@pytest.fixture
async def own(
    engine: Engine, clock: FakeClock, sleeps: RecordingSleep, sources: InvoiceSources, workspace_id: int
) -> AsyncIterator[Own]:
    """The admin app served with a recording PDF sink, the own system set up; yields a signing client."""
    application = await serve_app(engine, clock, sleeps, sources)
    sink = Sink()
    handler: PdfSink = sink
    application[PDF_SINK_KEY] = handler
    secret = save_credentials(engine, workspace_id, "own", {}, actor="test")["webhook_secret"]
    async with serve(application) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield Own(client, clock, secret, sink)


def invoice_count(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(InvoiceRecord)).all())


async def test_an_invoice_event_hands_its_pdf_to_the_sink(engine: Engine, workspace_id: int, own: Own) -> None:
    pdf = pdf_with_text("Számla OWN-2026-0042")
    # Line breaks inside the base64 (as MIME encoders write it) are allowed.
    answer = await own.send(event_with_pdf("evt-1", base64.encodebytes(pdf).decode()))

    assert answer.status_code == 200
    assert answer.json() == {"status": "stored", "invoice_id": stored(engine, "OWN-2026-0042").id, "pdf": "received"}
    assert own.sink.received == [(workspace_id, "OWN-2026-0042", pdf)]


async def test_a_pdf_event_not_signed_with_the_secret_is_refused(engine: Engine, own: Own) -> None:
    answer = await own.send(event_with_pdf("evt-1", pdf_with_text("OWN-2026-0042")), secret="not-the-secret")

    assert answer.status_code == 401
    assert own.sink.received == [] and invoice_count(engine) == 0


@pytest.mark.parametrize(
    ("pdf_base64", "reason"),
    [
        (base64.b64encode(b"<html>not a pdf</html>").decode(), "is not a PDF file (it must start with %PDF-)"),
        ("%PDF-1.4 not base64!", "is not valid base64"),
        (base64.b64encode(b"%PDF-" + b"0" * MAX_PDF_BYTES).decode(), "the PDF is larger than 10 MiB"),
        (base64.b64encode(b"%PDF-" + b"0" * (MAX_PDF_BYTES - 4)).decode(), "the PDF is larger than 10 MiB"),
    ],
    ids=["not-a-pdf", "not-base64", "too-large", "one-byte-too-large"],
)
async def test_a_bad_pdf_is_refused_with_one_reason_and_nothing_is_stored(
    engine: Engine, own: Own, pdf_base64: str, reason: str
) -> None:
    answer = await own.send(event_with_pdf("evt-1", pdf_base64))

    assert (answer.status_code, answer.json()) == (400, {"error": f"webhook: data.pdf_base64: {reason}"})
    assert own.sink.received == [] and invoice_count(engine) == 0


async def test_an_event_above_the_size_limit_is_refused_before_it_is_read(engine: Engine, own: Own) -> None:
    body = b'{"id": "evt-1", "type": "invoice.created", "data": {"pdf_base64": "' + b"A" * MAX_EVENT_BYTES + b'"}}'

    answer = await own.send(body)

    assert answer.status_code == 413 and "larger than" in answer.json()["error"]
    assert own.sink.received == [] and invoice_count(engine) == 0


async def test_when_the_sink_fails_the_sender_is_told_and_a_resend_hands_the_pdf_over(
    engine: Engine, workspace_id: int, own: Own
) -> None:
    pdf = pdf_with_text("OWN-2026-0042")
    own.sink.fail = True

    failed = await own.send(event_with_pdf("evt-1", pdf))
    resent = await own.send(event_with_pdf("evt-1", pdf))
    again = await own.send(event_with_pdf("evt-1", pdf))

    assert failed.status_code == 503 and "send the event again" in failed.json()["error"]
    assert invoice_count(engine) == 1  # the invoice itself was stored the first time
    assert (resent.status_code, resent.json()) == (200, {"status": "duplicate"})
    # Each resend hands the same bytes over again: the sink (the archive) keeps one version per content hash.
    assert own.sink.received == [(workspace_id, "OWN-2026-0042", pdf)] * 2 and again.status_code == 200


async def test_the_app_archives_the_own_systems_pdf_once_and_it_is_searchable_by_its_text(
    engine: Engine,
    clock: FakeClock,
    sleeps: RecordingSleep,
    sources: InvoiceSources,
    workspace_id: int,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from reconbot.core.services.archive.filing import history
    from reconbot.core.services.archive.search import search

    monkeypatch.setenv("RECONBOT_ARCHIVE_DIR", str(tmp_path / "archive"))
    application = await serve_app(engine, clock, sleeps, sources)
    secret = save_credentials(engine, workspace_id, "own", {}, actor="test")["webhook_secret"]
    async with serve(application) as url, httpx.AsyncClient(base_url=url) as client:
        for event_id in ("evt-1", "evt-2"):  # the same PDF sent twice
            body = json.dumps(event_with_pdf(event_id, pdf_with_text("OWN-2026-0042 Kertfenntartas"))).encode()
            header = sign(secret, body, int(clock().timestamp()))
            answer = await client.post(f"/hooks/own/{SLUG}", content=body, headers={SIGNATURE_HEADER: header})
            assert answer.status_code == 200 and answer.json()["pdf"] == "received"

    (hit,) = search(engine, workspace_id, "Kertfenntartas")
    assert hit.number == "OWN-2026-0042"
    assert [d.version for d in history(engine, workspace_id, hit.invoice_id)] == [1]


async def test_the_archive_job_fetches_missing_pdfs_once_and_leaves_a_lost_invoice_alone_for_a_day(
    engine: Engine,
    sources: InvoiceSources,
    workspace_id: int,
    billingo: FakeBillingo,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    from reconbot.core.archive.storage import LocalDiskStorage
    from reconbot.core.services.archive.fetching import archive_missing_pdfs
    from reconbot.core.services.archive.search import search

    storage = LocalDiskStorage(tmp_path / "archive")
    billingo.seed_invoice(number="INV-2026-000060")
    billingo.seed_invoice(number="INV-2026-000061")
    await sync_source(sources, workspace_id, "billingo", actor="test")
    lost = stored(engine, "INV-2026-000061")
    with session_scope(engine) as session:  # the system no longer knows this one
        session.get_one(InvoiceRecord, lost.id).external_id = "999999"

    first = await archive_missing_pdfs(sources, storage, workspace_id, now=clock())
    assert first.archived == 1 and len(first.failed) == 1 and "INV-2026-000061" in first.failed[0]
    assert [hit.number for hit in search(engine, workspace_id, "INV-2026-000060")] == ["INV-2026-000060"]
    again = await archive_missing_pdfs(sources, storage, workspace_id, now=clock())
    assert (again.archived, again.failed) == (0, [])  # nothing fetched twice; the lost one waits a day
    clock.advance(days=1, minutes=1)
    later = await archive_missing_pdfs(sources, storage, workspace_id, now=clock())
    assert later.archived == 0 and len(later.failed) == 1
