"""FakturowniaSource writes against the fake Fakturownia: payments, final invoices, new invoices, retries by key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from reconbot.core.domain import Direction, InvoiceKind, InvoiceStatus
from reconbot.core.errors import ProviderError
from reconbot.core.invoicing.fakturownia import FakturowniaSource
from reconbot.core.invoicing.model import Buyer, DocumentRef, InvoiceLine, InvoiceOrder, PaymentEntry, PaymentMethod
from reconbot.core.invoicing.source import SourceContext, build_source
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.fakturownia import FakeFakturownia
from tests.fakes.server import serve

TOKEN = "fkt-3Hd8Kq1ZmW5yP0rV6cXa"
START = datetime(2026, 5, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    """The suite's clock, started at ``START``."""
    return FakeClock(START)


@pytest.fixture
def fake(clock: FakeClock) -> FakeFakturownia:
    return FakeFakturownia(api_token=TOKEN, clock=clock)


@pytest.fixture
async def base_url(fake: FakeFakturownia) -> AsyncIterator[str]:
    async with serve(fake.app) as url:
        yield url


def make(
    fake: FakeFakturownia, base_url: str, clock: FakeClock, sleeps: RecordingSleep, timeout: float = 5
) -> FakturowniaSource:
    context = SourceContext(clock=clock, sleep=sleeps, timeout_seconds=timeout)
    source = build_source("fakturownia", fake.credentials(base_url), context)
    assert isinstance(source, FakturowniaSource)
    return source


@pytest.fixture
async def source(
    fake: FakeFakturownia, base_url: str, clock: FakeClock, sleeps: RecordingSleep
) -> AsyncIterator[FakturowniaSource]:
    source = make(fake, base_url, clock, sleeps)
    yield source
    await source.aclose()


@pytest.fixture
async def impatient(
    fake: FakeFakturownia, base_url: str, clock: FakeClock, sleeps: RecordingSleep
) -> AsyncIterator[FakturowniaSource]:
    """A source that gives up on an answer after half a second (the fake can stall longer)."""
    source = make(fake, base_url, clock, sleeps, timeout=0.5)
    yield source
    await source.aclose()


def posts(fake: FakeFakturownia, path: str) -> list[Any]:
    return [r.body for r in fake.requests if r.method == "POST" and r.path == path]


COMPANY = Buyer(
    name="Jan Kowalski", email="jan@kowalski.pl", phone="+48 600 100 200", country="pl", post_code="00-950",
    city="Warszawa", address="ul. Prosta 1", company_name="Kowalski Sp. z o.o.", tax_number="5252445767",
)  # fmt: skip
LINES = (
    InvoiceLine("Consulting", Decimal("2"), "h", Decimal("200.00"), Decimal("46.00"), Decimal("246.00"), Decimal("23")),
    InvoiceLine("Tip", Decimal("1"), "szt", Decimal("15.50"), Decimal("0"), Decimal("15.50"), Decimal("0")),
)


def order(key: str = "reconbot-s17", **changes: Any) -> InvoiceOrder:
    made = InvoiceOrder(
        external_key=key, buyer=COMPANY, lines=LINES, currency="PLN", language="pl", method=PaymentMethod.TRANSFER,
        issue_date=date(2026, 5, 11), fulfillment_date=date(2026, 5, 10), due_date=date(2026, 5, 25),
        send_email=True, paid=False, comment="Order 17",
    )  # fmt: skip
    return replace(made, **changes)


def seeded(fake: FakeFakturownia, number: str = "FV 7/05/2026", gross: str = "1230.00") -> DocumentRef:
    doc = fake.add_invoice(number, gross, buyer_name="Alfa Sp. z o.o.")
    return DocumentRef(str(doc["id"]), number)


def entry(key: str, amount: str = "1000.50") -> PaymentEntry:
    return PaymentEntry(key, date(2026, 5, 10), Decimal(amount), "PLN", note="Bank transfer 2026-05-10")


# --- payments --------------------------------------------------------------------------------------------------


async def test_register_payment_posts_it_once_and_a_retry_finds_it(
    fake: FakeFakturownia, source: FakturowniaSource
) -> None:
    ref = seeded(fake)
    result = await source.register_payment(ref, entry("reconbot-p42"), maybe_done=False)

    (payment,) = fake.payments.values()
    assert (result.provider_id, result.paid_total, result.already) == (str(payment["id"]), Decimal("1000.50"), False)
    (request,) = [r for r in fake.requests if r.method == "POST"]
    assert request.path == "/banking/payments.json" and "api_token" not in request.query
    assert request.body == {
        "api_token": TOKEN,
        "banking_payment": {
            "name": "FV 7/05/2026 payment [reconbot-p42]", "price": "1000.50", "invoice_id": int(ref.external_id),
            "paid": True, "kind": "api", "paid_date": "2026-05-10", "currency": "PLN",
            "description": "Bank transfer 2026-05-10 [reconbot-p42]",
        },
    }  # fmt: skip
    assert (fake.invoices[int(ref.external_id)]["paid"], fake.invoices[int(ref.external_id)]["status"]) == (
        "1000.50", "partial"
    )  # fmt: skip

    again = await source.register_payment(ref, entry("reconbot-p42"), maybe_done=True)
    assert (again.provider_id, again.paid_total, again.already) == (result.provider_id, Decimal("1000.50"), True)
    assert len(fake.payments) == 1 and fake.count("/banking/payments.json", "POST") == 1
    lookup = fake.requests[-1]
    assert (lookup.method, lookup.path) == ("GET", f"/invoices/{ref.external_id}.json")
    assert lookup.query == {"additional_fields[invoice]": "connected_payments", "api_token": TOKEN}


async def test_a_similar_key_is_not_the_same_payment(fake: FakeFakturownia, source: FakturowniaSource) -> None:
    ref = seeded(fake)
    await source.register_payment(ref, entry("reconbot-p42", "100.00"), maybe_done=False)
    result = await source.register_payment(ref, entry("reconbot-p4", "30.00"), maybe_done=True)
    assert not result.already and result.paid_total == Decimal("130.00")
    assert [p["price"] for p in fake.payments_of(int(ref.external_id))] == ["100.00", "30.00"]


async def test_remove_payment_by_its_id_then_again(fake: FakeFakturownia, source: FakturowniaSource) -> None:
    ref = seeded(fake)
    added = await source.register_payment(ref, entry("reconbot-p42"), maybe_done=False)
    removed = await source.remove_payment(ref, entry("reconbot-p42"), provider_id=added.provider_id, maybe_done=False)

    delete = next(r for r in fake.requests if r.method == "DELETE")
    assert delete.path == f"/banking/payments/{added.provider_id}.json"
    assert delete.query == {"api_token": TOKEN} and delete.status == 204
    assert (removed.provider_id, removed.paid_total, removed.already) == (added.provider_id, Decimal("0.00"), False)
    assert fake.payments == {}
    assert fake.invoices[int(ref.external_id)]["status"] == "issued"

    twice = await source.remove_payment(ref, entry("reconbot-p42"), provider_id=added.provider_id, maybe_done=True)
    assert twice.already and twice.paid_total == Decimal("0.00")


async def test_remove_payment_without_its_id_finds_it_by_key(fake: FakeFakturownia, source: FakturowniaSource) -> None:
    ref = seeded(fake)
    await source.register_payment(ref, entry("reconbot-p42", "100.00"), maybe_done=False)
    kept = await source.register_payment(ref, entry("reconbot-p43", "20.00"), maybe_done=False)
    removed = await source.remove_payment(ref, entry("reconbot-p42"), provider_id="", maybe_done=True)
    assert not removed.already and removed.paid_total == Decimal("20.00")
    assert list(fake.payments) == [int(kept.provider_id)]

    deletes = fake.count("/banking/payments/", "DELETE")
    gone = await source.remove_payment(ref, entry("reconbot-p42"), provider_id="", maybe_done=True)
    assert gone.already and fake.count("/banking/payments/", "DELETE") == deletes  # nothing left to delete


async def test_a_failed_payment_post_is_not_resent(
    fake: FakeFakturownia, source: FakturowniaSource, sleeps: RecordingSleep
) -> None:
    ref = seeded(fake)
    fake.fail_next(503, path_substring="/banking/payments.json")
    with pytest.raises(ProviderError) as caught:
        await source.register_payment(ref, entry("reconbot-p42"), maybe_done=False)
    assert not caught.value.permanent and "not retried" in str(caught.value)
    assert fake.count("/banking/payments.json", "POST") == 1 and sleeps.waits == []


# --- final invoice from a proforma -----------------------------------------------------------------------------


async def test_final_from_proforma_is_made_once(fake: FakeFakturownia, source: FakturowniaSource) -> None:
    proforma = fake.add_proforma("PRO 3/05/2026", "615.00", buyer_name="Alfa Sp. z o.o.", currency="EUR")
    ref = DocumentRef(str(proforma["id"]), proforma["number"])
    final = await source.final_from_proforma(ref, "reconbot-f9", maybe_done=False)

    assert posts(fake, "/invoices.json") == [{
        "api_token": TOKEN, "oid_unique": "yes",
        "invoice": {
            "copy_invoice_from": proforma["id"], "from_invoice_id": proforma["id"], "kind": "vat",
            "oid": "reconbot-f9", "issue_date": "2026-05-11", "status": "paid", "paid": "615.00",
            "paid_date": "2026-05-11",
        },
    }]  # fmt: skip
    invoice = final.invoice
    assert (invoice.kind, invoice.status, invoice.gross, invoice.paid) == (
        InvoiceKind.INVOICE, InvoiceStatus.PAID, Decimal("615.00"), Decimal("615.00")
    )  # fmt: skip
    assert (final.proforma_id, final.external_key, invoice.currency) == (ref.external_id, "reconbot-f9", "EUR")
    assert invoice.partner_name == "Alfa Sp. z o.o." and invoice.number.startswith("FV ")

    retried = await source.final_from_proforma(ref, "reconbot-f9", maybe_done=True)
    assert retried.invoice.id == invoice.id and fake.count("/invoices.json", "POST") == 1

    # Even without maybe_done Fakturownia refuses the duplicate oid, and the refusal leads to the first one.
    blind = await source.final_from_proforma(ref, "reconbot-f9", maybe_done=False)
    assert blind.invoice.id == invoice.id
    assert [r.status for r in fake.requests if r.method == "POST"] == [201, 422]
    assert [d["number"] for d in fake.invoices.values() if d["kind"] == "vat"] == [invoice.number]


async def test_final_after_a_timeout_is_found_by_the_retry(fake: FakeFakturownia, impatient: FakturowniaSource) -> None:
    proforma = fake.add_proforma("PRO 4/05/2026", "100.00", buyer_name="Alfa Sp. z o.o.")
    ref = DocumentRef(str(proforma["id"]), proforma["number"])
    fake.stall_next_create(1.5)
    with pytest.raises(ProviderError) as caught:
        await impatient.final_from_proforma(ref, "reconbot-f10", maybe_done=False)
    assert not caught.value.permanent
    assert str(caught.value) == "fakturownia: POST /invoices.json: no answer (ReadTimeout); not retried"
    made = fake.find("FV 1/05/2026")
    assert made is not None and made["oid"] == "reconbot-f10"  # the fake did create it

    final = await impatient.final_from_proforma(ref, "reconbot-f10", maybe_done=True)
    assert final.invoice.id == str(made["id"]) and final.proforma_id == ref.external_id
    assert fake.count("/invoices.json", "POST") == 1
    scan = [r.query for r in fake.requests if r.method == "GET" and r.path == "/invoices.json"]
    assert scan == [{"period": "last_30_days", "order": "updated_at.desc", "per_page": "100", "page": "1",
                     "api_token": TOKEN}]  # fmt: skip


async def test_final_from_a_document_that_is_no_proforma_is_refused(
    fake: FakeFakturownia, source: FakturowniaSource
) -> None:
    with pytest.raises(ProviderError, match="is not a proforma") as caught:
        await source.final_from_proforma(seeded(fake), "reconbot-f11", maybe_done=False)
    assert caught.value.permanent and fake.count("/invoices.json", "POST") == 0


# --- issuing invoices ------------------------------------------------------------------------------------------


async def test_issue_invoice_sends_the_order_inline_and_emails_it(
    fake: FakeFakturownia, source: FakturowniaSource
) -> None:
    issued = await source.issue_invoice(order(), maybe_done=False)

    assert posts(fake, "/invoices.json") == [{
        "api_token": TOKEN, "oid_unique": "yes",
        "invoice": {
            "kind": "vat", "oid": "reconbot-s17", "issue_date": "2026-05-11", "sell_date": "2026-05-10",
            "payment_to": "2026-05-25", "payment_type": "transfer", "currency": "PLN", "lang": "pl",
            "buyer_name": "Kowalski Sp. z o.o.", "buyer_company": "1", "buyer_email": "jan@kowalski.pl",
            "buyer_phone": "+48 600 100 200", "buyer_street": "ul. Prosta 1", "buyer_city": "Warszawa",
            "buyer_post_code": "00-950", "buyer_country": "PL", "buyer_tax_no": "5252445767", "status": "issued",
            "description": "Order 17",
            "positions": [
                {"name": "Consulting", "quantity": "2", "quantity_unit": "h", "total_price_gross": "246.00",
                 "tax": "23"},
                {"name": "Tip", "quantity": "1", "quantity_unit": "szt", "total_price_gross": "15.50", "tax": "0"},
            ],
        },
    }]  # fmt: skip
    invoice = issued.invoice
    assert (invoice.direction, invoice.kind) == (Direction.ISSUED, InvoiceKind.INVOICE)
    assert invoice.status is InvoiceStatus.ISSUED
    assert (invoice.gross, invoice.paid, invoice.currency) == (Decimal("261.50"), Decimal("0.00"), "PLN")
    assert (invoice.partner_name, invoice.partner_tax_id, issued.external_key) == (
        "Kowalski Sp. z o.o.", "5252445767", "reconbot-s17"
    )  # fmt: skip
    email = next(r for r in fake.requests if r.path.endswith("/send_by_email.json"))
    assert (email.method, email.path) == ("POST", f"/invoices/{invoice.id}/send_by_email.json")
    assert (email.query, email.body) == ({"api_token": TOKEN}, None)
    assert fake.emailed == [int(invoice.id)]


@pytest.mark.parametrize(
    ("method", "wire"),
    [(PaymentMethod.TRANSFER, "transfer"), (PaymentMethod.CASH, "cash"), (PaymentMethod.CARD, "card"),
     (PaymentMethod.PAYPAL, "paypal")],
)  # fmt: skip
async def test_payment_methods_in_fakturownias_words(
    fake: FakeFakturownia, source: FakturowniaSource, method: PaymentMethod, wire: str
) -> None:
    await source.issue_invoice(order(method=method, send_email=False), maybe_done=False)
    (body,) = posts(fake, "/invoices.json")
    assert body["invoice"]["payment_type"] == wire


@pytest.mark.parametrize(("language", "lang"), [("pl", "pl"), ("hu", "hu"), ("EN", "en"), ("cs", "cz"), ("ja", "en")])
async def test_languages(fake: FakeFakturownia, source: FakturowniaSource, language: str, lang: str) -> None:
    await source.issue_invoice(order(language=language, send_email=False), maybe_done=False)
    assert posts(fake, "/invoices.json")[0]["invoice"]["lang"] == lang


async def test_a_paid_invoice_for_a_private_person_in_euro(fake: FakeFakturownia, source: FakturowniaSource) -> None:
    person = Buyer(name="Anna Nowak", email="anna@example.pl", country="DE", city="Berlin")
    issued = await source.issue_invoice(
        order(buyer=person, paid=True, currency="EUR", send_email=False, comment=""), maybe_done=False
    )
    (body,) = posts(fake, "/invoices.json")
    sent = body["invoice"]
    assert (sent["buyer_name"], sent["buyer_company"], sent["buyer_country"]) == ("Anna Nowak", "0", "DE")
    assert {"buyer_tax_no", "buyer_phone", "buyer_street", "buyer_post_code", "description"}.isdisjoint(sent)
    assert (sent["buyer_email"], sent["buyer_city"]) == ("anna@example.pl", "Berlin")
    assert (sent["status"], sent["paid"], sent["paid_date"]) == ("paid", "261.50", "2026-05-11")
    assert sent["currency"] == "EUR"
    assert (issued.invoice.status, issued.invoice.paid, issued.invoice.currency) == (
        InvoiceStatus.PAID, Decimal("261.50"), "EUR"
    )  # fmt: skip
    assert fake.emailed == [] and fake.count("send_by_email") == 0


async def test_a_retry_finds_the_invoice_and_does_not_email_twice(
    fake: FakeFakturownia, source: FakturowniaSource
) -> None:
    first = await source.issue_invoice(order(), maybe_done=False)
    again = await source.issue_invoice(order(), maybe_done=True)
    assert again.invoice.id == first.invoice.id
    assert fake.count("/invoices.json", "POST") == 1
    assert fake.emailed == [int(first.invoice.id)]  # status "sent" shows the first attempt e-mailed it


async def test_an_invoice_made_before_a_timeout_is_found_and_then_emailed(
    fake: FakeFakturownia, impatient: FakturowniaSource
) -> None:
    fake.stall_next_create(1.5)
    with pytest.raises(ProviderError, match="not retried"):
        await impatient.issue_invoice(order(), maybe_done=False)
    assert len(fake.invoices) == 1 and fake.emailed == []

    issued = await impatient.issue_invoice(order(), maybe_done=True)
    assert issued.invoice.id == str(next(iter(fake.invoices)))
    assert fake.count("/invoices.json", "POST") == 1
    assert fake.emailed == [int(issued.invoice.id)]  # the timed-out attempt never got as far as e-mailing


async def test_a_duplicate_key_without_maybe_done_returns_the_first_invoice(
    fake: FakeFakturownia, source: FakturowniaSource
) -> None:
    first = await source.issue_invoice(order(send_email=False), maybe_done=False)
    second = await source.issue_invoice(order(send_email=False), maybe_done=False)
    assert second.invoice.id == first.invoice.id and len(fake.invoices) == 1


async def test_a_refused_invoice_carries_fakturownias_reason(fake: FakeFakturownia, source: FakturowniaSource) -> None:
    with pytest.raises(ProviderError) as caught:
        await source.issue_invoice(order(buyer=Buyer(name="")), maybe_done=False)
    assert caught.value.permanent and caught.value.status == 422
    assert str(caught.value) == "fakturownia: issuing the invoice of reconbot-s17: buyer_name can't be blank"
    assert fake.invoices == {}
