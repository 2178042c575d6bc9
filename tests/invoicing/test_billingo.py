"""BillingoSource against the fake Billingo API v3 served on a local port (no mocked HTTP)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from reconbot.core.domain import Direction, InvoiceKind, InvoiceStatus
from reconbot.core.errors import ProviderError
from reconbot.core.invoicing.billingo import BillingoSource
from reconbot.core.invoicing.model import Buyer, DocumentRef, InvoiceLine, InvoiceOrder, PaymentEntry, PaymentMethod
from reconbot.core.invoicing.source import SourceContext, build_source
from tests.fakes.billingo import API_KEY, FakeBillingo
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.server import serve

START = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
TODAY = START.date()


@pytest.fixture
def clock() -> FakeClock:
    """The suite's clock, started at ``START``."""
    return FakeClock(START)


@pytest.fixture
def fake(clock: FakeClock) -> FakeBillingo:
    return FakeBillingo(clock=clock)


@pytest.fixture
async def base_url(fake: FakeBillingo) -> AsyncIterator[str]:
    async with serve(fake.app) as url:
        yield url + "/v3"


def make(base_url: str, clock: FakeClock, sleeps: RecordingSleep, timeout: float = 5.0, **given: str) -> BillingoSource:
    credentials = {"api_key": API_KEY, "base_url": base_url, **given}
    source = build_source("billingo", credentials, SourceContext(clock=clock, sleep=sleeps, timeout_seconds=timeout))
    assert isinstance(source, BillingoSource)
    return source


@pytest.fixture
async def source(base_url: str, clock: FakeClock, sleeps: RecordingSleep) -> AsyncIterator[BillingoSource]:
    source = make(base_url, clock, sleeps)
    yield source
    await source.aclose()


COMPANY = Buyer(
    name="Nagy Péter", email="penzugy@szalon.example", country="HU", post_code="6720", city="Szeged",
    address="Kárász u. 5.", company_name="Szalon Bt.", tax_number="28765432-1-06",
)  # fmt: skip
COFFEE = InvoiceLine("Kávé", Decimal(2), "db", Decimal(2000), Decimal(540), Decimal(2540), Decimal(27))
TIP = InvoiceLine("Borravaló", Decimal(1), "db", Decimal(500), Decimal(0), Decimal(500), Decimal(0))


def order(**changes: Any) -> InvoiceOrder:
    base = InvoiceOrder(
        external_key="reconbot-s17", buyer=COMPANY, lines=(COFFEE, TIP), currency="HUF", language="hu",
        method=PaymentMethod.TRANSFER, issue_date=TODAY, fulfillment_date=TODAY,
        due_date=TODAY + timedelta(days=8), send_email=True, comment="Rendelés #17",
    )  # fmt: skip
    return replace(base, **changes)


def payment(key: str = "reconbot-p42", amount: str = "5000") -> PaymentEntry:
    return PaymentEntry(key, date(2026, 3, 9), Decimal(amount), "HUF", PaymentMethod.TRANSFER)


# --- credentials, check, errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "named"), [({"api_key": " "}, "api_key"), ({"block_id": "first"}, "block_id")])
def test_bad_credentials_are_permanent_and_named(given: dict[str, str], named: str) -> None:
    with pytest.raises(ProviderError) as caught:
        BillingoSource.from_credentials({"api_key": API_KEY, **given}, SourceContext())
    assert caught.value.permanent
    assert named in str(caught.value)
    assert API_KEY not in str(caught.value)


async def test_check_sends_the_key_and_names_the_organisation(fake: FakeBillingo, source: BillingoSource) -> None:
    assert await source.check() == "Billingo organisation 12345678-2-42"
    (call,) = fake.requests
    assert (call.method, call.path, call.headers["X-API-KEY"]) == ("GET", "/organization", API_KEY)


async def test_refused_key_is_permanent_and_never_echoed(
    base_url: str, clock: FakeClock, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "bk-wrong-0a9b8c7d6e5f4a3b2c1d"
    source = make(base_url, clock, sleeps, api_key=wrong)
    try:
        with pytest.raises(ProviderError) as caught:
            await source.changed_invoices(None)
    finally:
        await source.aclose()
    assert caught.value.permanent
    assert caught.value.status == 401
    assert str(caught.value).startswith("billingo: the API key was refused (HTTP 401)")
    assert wrong not in str(caught.value) + caplog.text
    assert "X-API-KEY" not in str(caught.value)  # Billingo's message names the header; ours does not echo it
    assert sleeps.waits == []  # a refused key is not retried


async def test_rate_limit_waits_as_told(fake: FakeBillingo, source: BillingoSource, sleeps: RecordingSleep) -> None:
    fake.rate_limit_next(times=2, retry_after=7)
    assert "12345678-2-42" in await source.check()
    assert sleeps.waits == [7.0, 7.0]
    assert [r.status for r in fake.requests] == [429, 429, 200]


async def test_server_errors_are_retried_then_succeed(
    fake: FakeBillingo, source: BillingoSource, sleeps: RecordingSleep
) -> None:
    fake.seed_invoice()
    fake.fail_next(503, times=2, path="/documents")
    page = await source.changed_invoices(None)
    assert len(page.invoices) == 1
    assert [r.status for r in fake.calls("GET", "/documents")] == [503, 503, 200]
    assert sleeps.waits == [1.0, 2.0]


async def test_validation_error_is_permanent_with_billingos_words(
    fake: FakeBillingo, source: BillingoSource, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"message": "The given data was invalid.", "errors": [{"field": "due_date", "message": "Too early."}]}
    fake.fail_next(422, path="/documents", body=body)
    with pytest.raises(ProviderError) as caught:
        await source.issue_invoice(order(), maybe_done=False)
    assert caught.value.permanent
    assert str(caught.value) == (
        "billingo: invoice reconbot-s17: issuing it: The given data was invalid.; due_date: Too early. (HTTP 422)"
    )
    assert fake.documents == {}
    assert API_KEY not in caplog.text


async def test_unknown_document_is_permanent(source: BillingoSource) -> None:
    with pytest.raises(ProviderError) as caught:
        await source.register_payment(DocumentRef("999", "INV-X"), payment(), maybe_done=False)
    assert caught.value.permanent
    assert str(caught.value) == "billingo: document 999 not found"


# --- listing -------------------------------------------------------------------------------------------------


async def test_first_pull_pages_through_everything_changed_and_returns_todays_cursor(
    fake: FakeBillingo, source: BillingoSource
) -> None:
    fake.seed_invoice(modified=START - timedelta(days=91))  # before the first pull reaches
    for _ in range(130):
        fake.seed_invoice(modified=START - timedelta(days=3))
    page = await source.changed_invoices(None)
    assert len(page.invoices) == 130
    assert page.cursor == "2026-03-10"
    calls = fake.calls("GET", "/documents")
    assert [c.query for c in calls] == [
        {"last_modified_date": "2025-12-10", "page": "1", "per_page": "100"},
        {"last_modified_date": "2025-12-10", "page": "2", "per_page": "100"},
    ]
    assert len({i.invoice.id for i in page.invoices}) == 130


async def test_next_pull_starts_at_the_cursors_day(fake: FakeBillingo, source: BillingoSource) -> None:
    fake.seed_invoice(number="INV-OLD", modified=datetime(2026, 3, 4, 23, 0, tzinfo=UTC))
    fake.seed_invoice(number="INV-NEW", modified=datetime(2026, 3, 5, 0, 10, tzinfo=UTC))
    page = await source.changed_invoices("2026-03-05")
    assert [i.invoice.number for i in page.invoices] == ["INV-NEW"]
    assert fake.calls("GET", "/documents")[0].query["last_modified_date"] == "2026-03-05"
    with pytest.raises(ProviderError) as caught:
        await source.changed_invoices("yesterday")
    assert caught.value.permanent


async def test_documents_map_to_invoices(fake: FakeBillingo, source: BillingoSource) -> None:
    paid = fake.seed_invoice(
        "1234.56", currency="EUR", payment_status="paid", order_number="WEB-9", invoice_date=date(2026, 3, 1),
        due_date=date(2026, 3, 9),
    )  # fmt: skip
    cash = [("2026-03-02", Decimal(2500)), ("2026-03-03", Decimal("1500.5"))]
    partial = fake.seed_invoice("10000", payments=[{"date": d, "price": p, "payment_method": "cash"} for d, p in cash])
    storno = fake.seed_document("cancellation", "-12700")
    unsigned_storno = fake.seed_document("cancellation", "12700")  # negative whichever sign Billingo writes
    cancelled = fake.seed_invoice("3000", cancelled=True)
    proforma = fake.seed_proforma("5000", payment_status="none")
    advance = fake.seed_document("advance", "2000", payment_status="expired")
    for skipped in ("draft", "offer", "waybill", "modification"):
        fake.seed_document(skipped, "100")
    found = {int(i.invoice.id): i.invoice for i in (await source.changed_invoices(None)).invoices}
    assert len(found) == 7

    def summary(document: dict[str, Any]) -> tuple[Any, ...]:
        invoice = found[document["id"]]
        return invoice.number, invoice.direction, invoice.kind, invoice.gross, invoice.paid, invoice.status

    assert summary(paid) == (
        paid["invoice_number"], Direction.ISSUED, InvoiceKind.INVOICE, Decimal("1234.56"), Decimal("1234.56"),
        InvoiceStatus.PAID,
    )  # fmt: skip
    invoice = found[paid["id"]]
    assert (invoice.currency, invoice.order_number, invoice.issue_date, invoice.due_date) == (
        "EUR", "WEB-9", date(2026, 3, 1), date(2026, 3, 9)
    )  # fmt: skip
    assert (invoice.partner_name, invoice.partner_tax_id, invoice.partner_iban, invoice.partner_email) == (
        "Kovács Kft.", "12345678-2-42", "HU42117730161111101800000000", "szamla@kovacs.example"
    )  # fmt: skip

    assert summary(partial)[2:] == (
        InvoiceKind.INVOICE,
        Decimal(10000),
        Decimal("4000.5"),
        InvoiceStatus.PARTIALLY_PAID,
    )
    payment_reads = [r.path for r in fake.requests if r.path.endswith("/payments")]
    assert payment_reads == [f"/documents/{partial['id']}/payments"]  # only the partly paid one costs a call

    assert summary(storno)[2:] == (InvoiceKind.CREDIT_NOTE, Decimal(-12700), Decimal(0), InvoiceStatus.ISSUED)
    assert summary(unsigned_storno)[2:] == summary(storno)[2:]
    assert summary(cancelled)[2:] == (InvoiceKind.INVOICE, Decimal(3000), Decimal(0), InvoiceStatus.CANCELLED)
    assert summary(proforma)[2:] == (InvoiceKind.PROFORMA, Decimal(5000), Decimal(0), InvoiceStatus.ISSUED)
    assert summary(advance)[2:] == (InvoiceKind.ADVANCE, Decimal(2000), Decimal(0), InvoiceStatus.ISSUED)


async def test_invoice_by_number_matches_exactly(fake: FakeBillingo, source: BillingoSource) -> None:
    fake.seed_invoice(number="INV-2026-000120")
    wanted = fake.seed_invoice(number="INV-2026-000012", payment_status="paid")
    found = await source.invoice_by_number("INV-2026-000012")
    assert found is not None
    assert (found.invoice.id, found.invoice.status) == (str(wanted["id"]), InvoiceStatus.PAID)
    assert fake.calls("GET", "/documents")[0].query["query"] == "INV-2026-000012"
    assert await source.invoice_by_number("INV-2026-000001") is None


# --- payments ------------------------------------------------------------------------------------------------


async def test_register_payment_appends_once(fake: FakeBillingo, source: BillingoSource) -> None:
    someone = {"date": "2026-03-01", "price": 1000, "payment_method": "cash", "voucher_number": "PT-7"}
    document = fake.seed_invoice("12700", payments=[someone])
    ref = DocumentRef(str(document["id"]), document["invoice_number"])

    result = await source.register_payment(ref, payment(), maybe_done=False)
    assert (result.paid_total, result.already, result.provider_id) == (Decimal(6000), False, "")
    (put,) = fake.calls("PUT", f"/documents/{document['id']}/payments")
    assert put.body == [
        someone,
        {"date": "2026-03-09", "price": 5000, "payment_method": "wire_transfer", "voucher_number": "reconbot-p42"},
    ]
    assert put.headers["Content-Type"] == "application/json"

    again = await source.register_payment(ref, payment(), maybe_done=True)
    assert (again.paid_total, again.already) == (Decimal(6000), True)
    assert len(fake.calls("PUT", f"/documents/{document['id']}/payments")) == 1
    assert len(fake.payments[document["id"]]) == 2


async def test_payment_amounts_travel_as_exact_numbers(fake: FakeBillingo, source: BillingoSource) -> None:
    document = fake.seed_invoice("100.10", currency="EUR")
    ref = DocumentRef(str(document["id"]), document["invoice_number"])
    result = await source.register_payment(ref, payment(amount="100.10"), maybe_done=False)
    (put,) = fake.calls("PUT", f"/documents/{document['id']}/payments")
    assert put.body[0]["price"] == Decimal("100.10") and isinstance(put.body[0]["price"], Decimal)
    assert result.paid_total == Decimal("100.10")
    assert fake.documents[document["id"]]["payment_status"] == "paid"


async def test_remove_payment_keeps_the_others_and_deletes_the_last(fake: FakeBillingo, source: BillingoSource) -> None:
    ours = {"date": "2026-03-09", "price": 5000, "payment_method": "wire_transfer", "voucher_number": "reconbot-p42"}
    theirs = {"date": "2026-03-01", "price": 1000, "payment_method": "cash", "voucher_number": "PT-7"}
    document = fake.seed_invoice("12700", payments=[theirs, ours])
    ref = DocumentRef(str(document["id"]), document["invoice_number"])
    path = f"/documents/{document['id']}/payments"

    result = await source.remove_payment(ref, payment(), provider_id="", maybe_done=False)
    assert (result.paid_total, result.already) == (Decimal(1000), False)
    assert fake.calls("PUT", path)[0].body == [theirs]

    gone = await source.remove_payment(ref, payment(), provider_id="", maybe_done=True)
    assert (gone.paid_total, gone.already) == (Decimal(1000), True)
    assert len(fake.calls("PUT", path)) == 1

    last = await source.remove_payment(ref, payment("PT-7"), provider_id="", maybe_done=False)
    assert (last.paid_total, last.already) == (Decimal(0), False)
    assert len(fake.calls("DELETE", path)) == 1
    assert fake.payments[document["id"]] == []
    assert fake.documents[document["id"]]["payment_status"] == "outstanding"


# --- final invoices from proformas ---------------------------------------------------------------------------


async def test_final_from_proforma_once_and_marked_paid(fake: FakeBillingo, source: BillingoSource) -> None:
    proforma = fake.seed_proforma("25400")
    ref = DocumentRef(str(proforma["id"]), proforma["invoice_number"])
    final = await source.final_from_proforma(ref, "reconbot-f5", maybe_done=False)
    invoice = final.invoice
    assert (invoice.kind, invoice.gross, invoice.paid, invoice.status) == (
        InvoiceKind.INVOICE, Decimal(25400), Decimal(25400), InvoiceStatus.PAID
    )  # fmt: skip
    assert (final.proforma_id, final.external_key) == (ref.external_id, "reconbot-f5")
    final_id = int(final.invoice.id)
    assert fake.documents[final_id]["type"] == "invoice"
    (put,) = fake.calls("PUT", f"/documents/{final_id}/payments")
    assert put.body == [
        {"date": "2026-03-10", "price": 25400, "payment_method": "wire_transfer", "voucher_number": "reconbot-f5"}
    ]

    again = await source.final_from_proforma(ref, "reconbot-f5", maybe_done=True)
    assert again.invoice.id == final.invoice.id
    assert again.invoice.status is InvoiceStatus.PAID
    assert len(fake.calls("POST", f"/documents/{proforma['id']}/create-from-proforma")) == 1
    assert len(fake.payments[final_id]) == 1


async def test_final_from_proforma_after_a_timeout_finds_what_was_made(
    fake: FakeBillingo, base_url: str, clock: FakeClock, sleeps: RecordingSleep
) -> None:
    proforma = fake.seed_proforma("25400")
    ref = DocumentRef(str(proforma["id"]), proforma["invoice_number"])
    source = make(base_url, clock, sleeps, timeout=0.3)
    try:
        fake.stall_next_create(1.0)
        with pytest.raises(ProviderError) as caught:
            await source.final_from_proforma(ref, "reconbot-f5", maybe_done=False)
        assert not caught.value.permanent
        assert "not retried" in str(caught.value)
        made = [d for d in fake.documents.values() if d["type"] == "invoice"]
        assert len(made) == 1  # the fake did create it before answering late

        final = await source.final_from_proforma(ref, "reconbot-f5", maybe_done=True)
    finally:
        await source.aclose()
    assert final.invoice.id == str(made[0]["id"])
    assert len(fake.calls("POST", f"/documents/{proforma['id']}/create-from-proforma")) == 1
    assert [p["voucher_number"] for p in fake.payments[made[0]["id"]]] == ["reconbot-f5"]
    assert final.invoice.status is InvoiceStatus.PAID


# --- issuing invoices ----------------------------------------------------------------------------------------


async def test_issue_invoice_sends_buyer_document_and_email(
    fake: FakeBillingo, source: BillingoSource, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    issued = await source.issue_invoice(order(), maybe_done=False)

    assert fake.calls("GET", "/document-blocks")[0].query == {"type": "invoice", "per_page": "100"}
    assert fake.calls("GET", "/partners")[0].query == {"query": "28765432-1-06", "per_page": "100"}
    (partner_call,) = fake.calls("POST", "/partners")
    assert partner_call.body == {
        "name": "Szalon Bt.",
        "address": {"country_code": "HU", "post_code": "6720", "city": "Szeged", "address": "Kárász u. 5."},
        "emails": ["penzugy@szalon.example"],
        "taxcode": "28765432-1-06",
        "tax_type": "HAS_TAX_NUMBER",
    }
    partner_id = next(iter(fake.partners))
    (create,) = fake.calls("POST", "/documents")
    assert create.body == {
        "vendor_id": "reconbot-s17", "partner_id": partner_id, "block_id": 9101, "type": "invoice",
        "fulfillment_date": "2026-03-10", "due_date": "2026-03-18", "payment_method": "wire_transfer",
        "language": "hu", "currency": "HUF", "electronic": True, "paid": True,
        "items": [
            {"name": "Kávé", "unit_price": 1270, "unit_price_type": "gross", "quantity": 2, "unit": "db",
             "vat": "27%"},
            {"name": "Borravaló", "unit_price": 500, "unit_price_type": "gross", "quantity": 1, "unit": "db",
             "vat": "0%"},
        ],
        "comment": "Rendelés #17",
    }  # fmt: skip
    document_id = int(issued.invoice.id)
    assert fake.sent == [(document_id, ["penzugy@szalon.example"])]
    assert (issued.invoice.number, issued.invoice.gross, issued.invoice.paid, issued.invoice.status) == (
        fake.documents[document_id]["invoice_number"], Decimal(3040), Decimal(3040), InvoiceStatus.PAID
    )  # fmt: skip
    assert (issued.external_key, issued.invoice.partner_name) == ("reconbot-s17", "Szalon Bt.")
    assert fake.by_vendor_id("reconbot-s17") is fake.documents[document_id]
    assert all(r.headers["X-API-KEY"] == API_KEY for r in fake.requests)
    assert API_KEY not in caplog.text


@pytest.mark.parametrize(
    ("method", "wire"),
    [(PaymentMethod.TRANSFER, "wire_transfer"), (PaymentMethod.CASH, "cash"), (PaymentMethod.CARD, "bankcard"),
     (PaymentMethod.PAYPAL, "paypal")],
)  # fmt: skip
async def test_payment_methods_speak_billingos_words(
    fake: FakeBillingo, source: BillingoSource, method: PaymentMethod, wire: str
) -> None:
    await source.issue_invoice(order(method=method), maybe_done=False)
    assert fake.calls("POST", "/documents")[0].body["payment_method"] == wire


async def test_private_foreign_language_buyer_with_configured_block(
    fake: FakeBillingo, base_url: str, clock: FakeClock, sleeps: RecordingSleep
) -> None:
    fake.blocks.append({"id": 9202, "name": "Webshop", "prefix": "WEB", "type": "invoice"})
    source = make(base_url, clock, sleeps, block_id="9202")
    walk_in = Buyer(name="Anna Kowalska", email="anna@poczta.example", country="pl")
    try:
        issued = await source.issue_invoice(
            order(buyer=walk_in, language="pl", currency="EUR", send_email=False, paid=False), maybe_done=False
        )
    finally:
        await source.aclose()
    assert fake.calls("GET", "/document-blocks") == []
    assert fake.calls("POST", "/partners")[0].body == {
        "name": "Anna Kowalska",
        "address": {"country_code": "PL", "post_code": "0000", "city": "-", "address": "-"},
        "emails": ["anna@poczta.example"],
        "taxcode": "",
        "tax_type": "NO_TAX_NUMBER",
    }
    body = fake.calls("POST", "/documents")[0].body
    assert (body["block_id"], body["language"], body["currency"], body["paid"]) == (9202, "en", "EUR", False)
    assert fake.sent == []
    assert (issued.invoice.paid, issued.invoice.status) == (Decimal(0), InvoiceStatus.ISSUED)


async def test_foreign_company_and_a_known_buyer_is_reused(fake: FakeBillingo, source: BillingoSource) -> None:
    austrian = replace(COMPANY, country="AT", tax_number="ATU12345678", company_name="Wien GmbH")
    await source.issue_invoice(order(buyer=austrian, external_key="reconbot-s1"), maybe_done=False)
    await source.issue_invoice(order(buyer=austrian, external_key="reconbot-s2"), maybe_done=False)
    (created,) = fake.calls("POST", "/partners")
    assert created.body["tax_type"] == "FOREIGN"
    partner_ids = {c.body["partner_id"] for c in fake.calls("POST", "/documents")}
    assert partner_ids == set(fake.partners)
    moved = replace(austrian, city="Graz")  # same name and tax number, other address: a new partner
    await source.issue_invoice(order(buyer=moved, external_key="reconbot-s3"), maybe_done=False)
    assert len(fake.calls("POST", "/partners")) == 2


async def test_uneven_unit_price_goes_as_one_unit(fake: FakeBillingo, source: BillingoSource) -> None:
    thirds = InvoiceLine(
        "Torta", Decimal(3), "szelet", Decimal("787.40"), Decimal("212.60"), Decimal(1000), Decimal(27)
    )
    issued = await source.issue_invoice(order(lines=(thirds,)), maybe_done=False)
    (item,) = fake.calls("POST", "/documents")[0].body["items"]
    assert (item["name"], item["quantity"], item["unit_price"], item["unit"]) == ("Torta (3 szelet)", 1, 1000, "szelet")
    assert issued.invoice.gross == Decimal(1000)


async def test_unsupported_vat_rate_is_refused_before_sending(fake: FakeBillingo, source: BillingoSource) -> None:
    odd = replace(COFFEE, vat_rate=Decimal(30))
    with pytest.raises(ProviderError) as caught:
        await source.issue_invoice(order(lines=(odd,)), maybe_done=False)
    assert caught.value.permanent
    assert "30 % VAT" in str(caught.value)
    assert fake.calls("POST", "/documents") == []


async def test_issue_after_a_timeout_returns_the_document_made(
    fake: FakeBillingo, base_url: str, clock: FakeClock, sleeps: RecordingSleep
) -> None:
    source = make(base_url, clock, sleeps, timeout=0.3)
    try:
        fake.stall_next_create(1.0)
        with pytest.raises(ProviderError) as caught:
            await source.issue_invoice(order(), maybe_done=False)
        assert not caught.value.permanent
        assert len(fake.documents) == 1 and fake.sent == []

        issued = await source.issue_invoice(order(), maybe_done=True)
    finally:
        await source.aclose()
    (document,) = fake.documents.values()
    assert issued.invoice.id == str(document["id"])
    assert issued.external_key == "reconbot-s17"
    assert len(fake.calls("POST", "/documents")) == 1
    assert len(fake.calls("GET", "/documents/vendor/reconbot-s17")) == 1
    assert fake.sent == [(document["id"], ["penzugy@szalon.example"])]  # the first attempt never got to send


async def test_maybe_done_with_nothing_made_issues_it(fake: FakeBillingo, source: BillingoSource) -> None:
    issued = await source.issue_invoice(order(), maybe_done=True)
    assert [r.status for r in fake.calls("GET", "/documents/vendor/reconbot-s17")] == [404]
    assert len(fake.calls("POST", "/documents")) == 1
    assert fake.by_vendor_id("reconbot-s17") is fake.documents[int(issued.invoice.id)]


async def test_a_failed_create_is_not_resent(fake: FakeBillingo, source: BillingoSource) -> None:
    fake.fail_next(500, path="/documents")
    with pytest.raises(ProviderError) as caught:
        await source.issue_invoice(order(), maybe_done=False)
    assert not caught.value.permanent
    assert [r.status for r in fake.calls("POST", "/documents")] == [500]
