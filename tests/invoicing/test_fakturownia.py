"""FakturowniaSource against the fake Fakturownia served on a local port: credentials, reading, errors, secrecy.

The writes (payments, final invoices, new invoices) are in ``test_fakturownia_writes.py``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from reconbot.core.domain import Direction, InvoiceKind, InvoiceStatus
from reconbot.core.errors import ProviderError
from reconbot.core.invoicing.fakturownia import FakturowniaSource
from reconbot.core.invoicing.model import DocumentRef, PaymentEntry
from reconbot.core.invoicing.source import SourceContext, build_source
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.fakturownia import FakeFakturownia
from tests.fakes.server import serve

TOKEN = "fkt-7Qm2Xw9LpR4sT8vN1bZc"
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


def make(base_url: str, clock: FakeClock, sleeps: RecordingSleep, **credentials: str) -> FakturowniaSource:
    given = {"api_token": TOKEN, "base_url": base_url, **credentials}
    source = build_source("fakturownia", given, SourceContext(clock=clock, sleep=sleeps, timeout_seconds=5))
    assert isinstance(source, FakturowniaSource)
    return source


@pytest.fixture
async def source(base_url: str, clock: FakeClock, sleeps: RecordingSleep) -> AsyncIterator[FakturowniaSource]:
    source = make(base_url, clock, sleeps)
    yield source
    await source.aclose()


def list_queries(fake: FakeFakturownia) -> list[dict[str, str]]:
    return [r.query for r in fake.requests if r.path == "/invoices.json" and r.method == "GET"]


# --- credentials and the connection test -------------------------------------------------------------------------


def test_missing_token_is_permanent_and_names_the_field() -> None:
    with pytest.raises(ProviderError) as caught:
        FakturowniaSource.from_credentials({"api_token": "  ", "account": "acme"}, SourceContext())
    assert caught.value.permanent
    assert "'api_token' is missing" in str(caught.value)


@pytest.mark.parametrize("account", ["acme", " Acme.fakturownia.pl ", "https://acme.fakturownia.pl/invoices"])
async def test_the_account_names_the_subdomain(account: str) -> None:
    source = FakturowniaSource.from_credentials({"api_token": TOKEN, "account": account}, SourceContext())
    await source.aclose()
    assert source.base_url == "https://acme.fakturownia.pl"


@pytest.mark.parametrize(("account", "problem"), [("", "'account' is missing"), ("acme corp", "not a Fakturownia")])
def test_a_bad_account_is_permanent(account: str, problem: str) -> None:
    with pytest.raises(ProviderError) as caught:
        FakturowniaSource.from_credentials({"api_token": TOKEN, "account": account}, SourceContext())
    assert caught.value.permanent
    assert problem in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_check_sends_the_token_as_a_query_parameter(fake: FakeFakturownia, source: FakturowniaSource) -> None:
    answer = await source.check()
    assert answer == "Fakturownia at 127.0.0.1: the API token was accepted"
    (request,) = fake.requests
    assert (request.method, request.path, request.status) == ("GET", "/invoices.json", 200)
    assert request.query == {"period": "all", "per_page": "1", "api_token": TOKEN}
    assert request.headers["Accept"] == "application/json"


async def test_a_refused_token_is_permanent_and_never_echoed(
    base_url: str, fake: FakeFakturownia, clock: FakeClock, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-token-0123456789"
    source = make(base_url, clock, sleeps, api_token=wrong)
    try:
        with pytest.raises(ProviderError) as caught:
            await source.check()
    finally:
        await source.aclose()
    assert caught.value.permanent and caught.value.status == 401
    assert str(caught.value).startswith("fakturownia: the API token was refused")
    assert fake.requests[0].api_token == wrong  # it was sent, in the query string
    assert wrong not in str(caught.value) + client_logs(caplog)
    assert sleeps.waits == []


# --- changed invoices ------------------------------------------------------------------------------------------


async def test_first_pull_reads_both_directions_issued_in_the_window(
    fake: FakeFakturownia, source: FakturowniaSource, clock: FakeClock
) -> None:
    recent = date(2026, 5, 2)
    clock.advance(hours=-4)  # documents seeded without updated_at changed at 05:00
    buyer: dict[str, Any] = {"buyer_name": "Alfa Sp. z o.o.", "buyer_tax_no": "5213000000", "buyer_email": "ap@alfa.pl"}
    vat = fake.add_invoice(
        "FV 1/05/2026", "1230.00", issue_date=recent, updated_at=START - timedelta(hours=2), oid="shop-17",
        payment_to="2026-05-16", seller_bank_account="PL61 1090 1014 0000 0712 1981 2874", **buyer,
    )  # fmt: skip
    proforma = fake.add_proforma("PRO 1/05/2026", "500", issue_date=recent, updated_at=START - timedelta(hours=3))
    fake.add_invoice(
        "FV 2/05/2026", "500.00", paid="500.00", issue_date=recent, updated_at=START - timedelta(hours=1),
        from_invoice_id=proforma["id"],
    )  # fmt: skip
    fake.add_invoice("KOR 1/05/2026", "100.00", kind="correction", paid="40", issue_date=recent)
    fake.add_invoice("ZAL 1/05/2026", "1000.00", kind="advance", paid="400.00", issue_date=recent)
    fake.add_invoice("ZAM 1/05/2026", "10.00", kind="estimate", issue_date=recent)  # not an invoice: skipped
    fake.add_invoice("FV 3/05/2026", "99.00", status="rejected", issue_date=recent)
    fake.add_invoice("FV 9/01/2026", "1.00", issue_date=date(2026, 1, 9))  # issued before the window
    fake.add_invoice(
        "F/2026/0042", "246.00", income=False, status="paid", issue_date=recent,
        updated_at=START - timedelta(minutes=30), seller_name="Dostawca S.A.", seller_tax_no="5252445767",
        seller_bank_account="pl61 1090 1014 0000 0712 1981 2874", seller_email="faktury@dostawca.pl",
        buyer_name="Our Company", payment_to="2026-05-20",
    )  # fmt: skip
    clock.advance(hours=4)
    page = await source.changed_invoices(None)

    common = {"api_token": TOKEN, "order": "updated_at.desc", "per_page": "100", "page": "1", "period": "more"}
    window = {"date_from": "2026-02-10", "date_to": "2026-05-12"}  # 90 days back from today; a day of slack
    assert list_queries(fake) == [common | window | {"income": "yes"}, common | window | {"income": "no"}]
    found = {i.invoice.number: i for i in page.invoices}
    assert set(found) == {
        "FV 1/05/2026", "PRO 1/05/2026", "FV 2/05/2026", "KOR 1/05/2026", "ZAL 1/05/2026", "FV 3/05/2026", "F/2026/0042"
    }  # fmt: skip
    first = found["FV 1/05/2026"]
    invoice = first.invoice
    assert invoice.id == str(vat["id"])
    assert (invoice.direction, invoice.kind) == (Direction.ISSUED, InvoiceKind.INVOICE)
    assert invoice.status is InvoiceStatus.ISSUED
    assert invoice.gross == Decimal("1230.00") and type(invoice.gross) is Decimal and invoice.paid == 0
    assert (invoice.partner_name, invoice.partner_tax_id, invoice.partner_email) == (
        "Alfa Sp. z o.o.", "5213000000", "ap@alfa.pl"
    )  # fmt: skip
    assert invoice.partner_iban == ""  # seller_bank_account of an issued invoice is our own account
    assert (invoice.currency, invoice.order_number, first.external_key) == ("PLN", "shop-17", "shop-17")
    assert (invoice.issue_date, invoice.due_date) == (recent, date(2026, 5, 16))
    assert first.modified_at == START - timedelta(hours=2)
    assert first.proforma_id == ""
    assert found["PRO 1/05/2026"].invoice.kind is InvoiceKind.PROFORMA
    final = found["FV 2/05/2026"]
    assert (final.proforma_id, final.invoice.status, final.invoice.paid) == (
        str(proforma["id"]), InvoiceStatus.PAID, Decimal("500.00")
    )  # fmt: skip
    credit = found["KOR 1/05/2026"].invoice
    assert (credit.kind, credit.gross, credit.paid) == (InvoiceKind.CREDIT_NOTE, Decimal("-100.00"), Decimal("-40.00"))
    assert credit.status is InvoiceStatus.PARTIALLY_PAID
    advance = found["ZAL 1/05/2026"].invoice
    assert (advance.kind, advance.status) == (InvoiceKind.ADVANCE, InvoiceStatus.PARTIALLY_PAID)
    assert found["FV 3/05/2026"].invoice.status is InvoiceStatus.CANCELLED
    cost = found["F/2026/0042"].invoice
    assert (cost.direction, cost.partner_name, cost.partner_tax_id) == (
        Direction.RECEIVED, "Dostawca S.A.", "5252445767"
    )  # fmt: skip
    assert (cost.partner_iban, cost.partner_email) == ("PL61109010140000071219812874", "faktury@dostawca.pl")
    assert (cost.status, cost.paid) == (InvoiceStatus.PAID, Decimal("246.00"))  # status "paid" with no amount
    assert datetime.fromisoformat(page.cursor) == START - timedelta(minutes=30)  # the newest change seen


async def test_an_empty_first_pull_starts_the_cursor_at_the_window(source: FakturowniaSource) -> None:
    page = await source.changed_invoices(None)
    assert page.invoices == []
    assert datetime.fromisoformat(page.cursor) == datetime(2026, 2, 10, tzinfo=UTC)


async def test_paging_stops_at_the_cursor_and_the_cursor_moves_on(
    fake: FakeFakturownia, source: FakturowniaSource, clock: FakeClock
) -> None:
    docs = [
        fake.add_invoice(f"FV {n}/2026", "10.00", updated_at=START - timedelta(minutes=300 - n)) for n in range(1, 251)
    ]
    cursor = docs[119]["updated_at"]  # FV 120's change, in Fakturownia's own format (Warsaw offset)
    page = await source.changed_invoices(cursor)

    queries = list_queries(fake)
    assert [(q["income"], q["page"]) for q in queries] == [("yes", "1"), ("yes", "2"), ("no", "1")]
    assert all(q["period"] == "all" and "date_from" not in q for q in queries)
    assert [i.invoice.number for i in page.invoices] == [f"FV {n}/2026" for n in range(250, 119, -1)]
    assert datetime.fromisoformat(page.cursor) == START - timedelta(minutes=50)

    again = await source.changed_invoices(page.cursor)  # nothing new: only the document at the cursor itself
    assert [i.invoice.number for i in again.invoices] == ["FV 250/2026"]
    assert again.cursor == page.cursor

    clock.advance(minutes=1)
    fake.touch(docs[4]["id"], paid="10.00", status="paid")
    later = await source.changed_invoices(again.cursor)
    assert [i.invoice.number for i in later.invoices] == ["FV 5/2026", "FV 250/2026"]
    assert later.invoices[0].invoice.status is InvoiceStatus.PAID
    assert datetime.fromisoformat(later.cursor) == START + timedelta(minutes=1)


async def test_a_bad_cursor_is_permanent(source: FakturowniaSource) -> None:
    with pytest.raises(ProviderError, match="cursor") as caught:
        await source.changed_invoices("yesterday-ish")
    assert caught.value.permanent


# --- lookup by number ------------------------------------------------------------------------------------------


async def test_invoice_by_number_takes_the_exact_match(fake: FakeFakturownia, source: FakturowniaSource) -> None:
    fake.add_invoice("11/05/2026", "20.00")
    wanted = fake.add_invoice("1/05/2026", "10.00", buyer_name="Beta Kft.")
    found = await source.invoice_by_number("1/05/2026")
    assert found is not None
    assert (found.invoice.id, found.invoice.gross, found.invoice.partner_name) == (
        str(wanted["id"]), Decimal("10.00"), "Beta Kft."
    )  # fmt: skip
    assert list_queries(fake) == [{"number": "1/05/2026", "period": "all", "per_page": "100", "api_token": TOKEN}]
    assert await source.invoice_by_number("2/05/2026") is None


# --- retries and errors ----------------------------------------------------------------------------------------


async def test_429_waits_as_retry_after_says(
    fake: FakeFakturownia, source: FakturowniaSource, sleeps: RecordingSleep
) -> None:
    fake.rate_limit_next(2, retry_after=3)
    await source.check()
    assert sleeps.waits == [3.0, 3.0]
    assert [r.status for r in fake.requests] == [429, 429, 200]


async def test_a_5xx_is_retried_after_backoff(
    fake: FakeFakturownia, source: FakturowniaSource, sleeps: RecordingSleep
) -> None:
    fake.add_invoice("FV 1/05/2026", "10.00")
    fake.fail_next(503, path_substring="/invoices.json")
    found = await source.invoice_by_number("FV 1/05/2026")
    assert found is not None and found.invoice.number == "FV 1/05/2026"
    assert sleeps.waits == [1.0]
    assert [r.status for r in fake.requests] == [503, 200]


async def test_an_unknown_invoice_is_permanent_not_found(source: FakturowniaSource) -> None:
    payment = PaymentEntry("reconbot-p1", date(2026, 5, 10), Decimal("5.00"), "PLN")
    with pytest.raises(ProviderError) as caught:
        await source.register_payment(DocumentRef("999999", "FV 99/2026"), payment, maybe_done=True)
    assert caught.value.permanent and caught.value.status == 404
    assert str(caught.value) == "fakturownia: invoice FV 99/2026: not found"


def client_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Return what reconbot and its HTTP stack logged; the fake server's own access log (aiohttp.*) prints the
    request line it received, query string included, and is not ours."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp"))


async def test_the_token_never_reaches_logs_or_messages(
    fake: FakeFakturownia, source: FakturowniaSource, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    invoice = fake.add_invoice("FV 1/05/2026", "100.00")
    ref = DocumentRef(str(invoice["id"]), invoice["number"])
    payment = PaymentEntry("reconbot-p7", date(2026, 5, 10), Decimal("100.00"), "PLN")
    messages = []
    await source.changed_invoices(None)
    result = await source.register_payment(ref, payment, maybe_done=False)
    await source.remove_payment(ref, payment, provider_id=result.provider_id, maybe_done=False)
    fake.fail_next(503, times=4, path_substring="/invoices.json")
    fake.fail_next(500, path_substring="/banking/payments.json")
    for failing in (
        source.check(),
        source.register_payment(ref, payment, maybe_done=False),
        source.register_payment(DocumentRef("424242", "FV 0"), payment, maybe_done=True),
    ):
        with pytest.raises(ProviderError) as caught:
            await failing
        messages.append(str(caught.value))
    assert all(r.api_token == TOKEN for r in fake.requests)  # it did travel, in queries and bodies
    assert any("api_token" in r.query for r in fake.requests)
    logged = client_logs(caplog)
    assert "fakturownia GET /invoices.json -> 200" in logged  # the HTTP client did log each call
    assert TOKEN not in logged
    assert all(TOKEN not in m for m in messages)
    assert messages[1] == "fakturownia: POST /banking/payments.json: HTTP 500; not retried"
