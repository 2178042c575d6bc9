"""SzamlazzSource against the fake Számla Agent served on a local port (no mocked HTTP)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from reconbot.core.domain import InvoiceKind, InvoiceStatus
from reconbot.core.errors import ProviderError, RateLimitedError
from reconbot.core.invoicing import szamlazz_xml as wire
from reconbot.core.invoicing.model import Buyer, DocumentRef, InvoiceLine, InvoiceOrder, PaymentEntry, PaymentMethod
from reconbot.core.invoicing.source import SourceContext, build_source
from reconbot.core.invoicing.szamlazz import AgentError, SzamlazzSource
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.server import serve
from tests.fakes.szamlazz import FakeSzamlazz, Recorded

AGENT_KEY = "4k7xq2m9wz8r5t1y3u6i0o9p8a7s6d5f4g3h2j1k0l"
NOW = datetime(2026, 2, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def fake() -> FakeSzamlazz:
    fake = FakeSzamlazz(agent_key=AGENT_KEY)
    fake.add_invoice("E-RB-2026-100", "25400", buyer_name="Árvíztűrő Tükörfúrógép Kft.", order_number="WEB-7",
                     payments=(("2026-01-20", "10000", "előleg"),))  # fmt: skip
    fake.add_proforma("D-RB-7", "12700", buyer_name="Őszibarack Bt.", order_number="WEB-9")
    return fake


@pytest.fixture
async def base_url(fake: FakeSzamlazz) -> AsyncIterator[str]:
    async with serve(fake.app) as url:
        yield url


def make(base_url: str, sleeps: RecordingSleep, *, timeout: float = 5.0, key: str = AGENT_KEY) -> SzamlazzSource:
    context = SourceContext(clock=FakeClock(NOW), sleep=sleeps, timeout_seconds=timeout)
    source = build_source("szamlazz", {"agent_key": key, "base_url": base_url}, context)
    assert isinstance(source, SzamlazzSource)
    return source


@pytest.fixture
async def source(base_url: str, sleeps: RecordingSleep) -> AsyncIterator[SzamlazzSource]:
    source = make(base_url, sleeps)
    yield source
    await source.aclose()


def last(fake: FakeSzamlazz, operation: str) -> Recorded:
    return [r for r in fake.requests if r.operation == operation][-1]


def in_order(children: list[str], order: tuple[str, ...]) -> bool:
    return children == sorted(children, key=order.index)


def order(**overrides: object) -> InvoiceOrder:
    values: dict[str, object] = {
        "external_key": "reconbot-s1",
        "buyer": Buyer(
            name="Kiss Éva",
            email="eva@example.hu",
            phone="+36 30 123 4567",
            post_code="9021",
            city="Győr",
            address="Kossuth u. 5.",
            company_name="Éva Kávézó Kft.",
            tax_number="12345678-2-08",
        ),
        "lines": (
            InvoiceLine(
                "Őrölt kávé",
                Decimal("3"),
                "csomag",
                Decimal("3703.50"),
                Decimal("999.95"),
                Decimal("4703.45"),
                Decimal("27"),
            ),
            InvoiceLine("Borravaló", Decimal("1"), "db", Decimal("500"), Decimal("0"), Decimal("500"), Decimal("0")),
        ),
        "currency": "HUF",
        "language": "hu",
        "method": PaymentMethod.TRANSFER,
        "issue_date": date(2026, 2, 10),
        "fulfillment_date": date(2026, 2, 9),
        "due_date": date(2026, 2, 18),
        "send_email": True,
    }
    values.update(overrides)
    return InvoiceOrder(**values)  # type: ignore[arg-type]


# --- credentials, session, check -------------------------------------------------------------------------------


@pytest.mark.parametrize("given", [{}, {"agent_key": "  "}])
def test_missing_agent_key_is_permanent_and_named(given: dict[str, str]) -> None:
    with pytest.raises(ProviderError) as caught:
        SzamlazzSource.from_credentials(given, SourceContext())
    assert caught.value.permanent
    assert "agent_key" in str(caught.value)


def test_base_url_must_be_http() -> None:
    with pytest.raises(ProviderError, match="base_url"):
        SzamlazzSource.from_credentials({"agent_key": AGENT_KEY, "base_url": "ftp://x"}, SourceContext())


async def test_check_asks_for_an_unknown_invoice_and_error_7_means_accepted(
    fake: FakeSzamlazz, source: SzamlazzSource
) -> None:
    assert await source.check() == "Számlázz.hu agent key accepted"
    sent = fake.requests[-1]
    assert (sent.method, sent.path, sent.field) == ("POST", "/szamla/", "action-szamla_agent_xml")
    assert (sent.filename, sent.content_type) == ("request.xml", "application/xml")
    assert sent.headers["charset"] == "utf-8"
    assert sent.headers["Content-Type"].startswith("multipart/form-data")
    tree = sent.tree()
    assert tree.tag == "{http://www.szamlazz.hu/xmlszamlaxml}xmlszamlaxml"
    assert tree.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation") == (
        "http://www.szamlazz.hu/xmlszamlaxml https://www.szamlazz.hu/szamla/docs/xsds/agentxml/xmlszamlaxml.xsd"
    )
    assert sent.children() == ["szamlaagentkulcs", "szamlaszam"]
    assert sent.text("szamlaszam") == "RECONBOT-CHECK"
    assert sent.error_code == 7


async def test_key_is_sent_lowercase_and_session_cookie_comes_back(
    fake: FakeSzamlazz, base_url: str, sleeps: RecordingSleep
) -> None:
    source = make(base_url, sleeps, key=AGENT_KEY.upper())
    try:
        await source.check()
        await source.invoice_by_number("E-RB-2026-100")
    finally:
        await source.aclose()
    first, second = fake.requests
    assert first.text("szamlaagentkulcs") == AGENT_KEY
    assert "JSESSIONID" not in first.cookies
    assert fake.sessions and second.cookies.get("JSESSIONID") == fake.sessions[0]
    assert len(fake.sessions) == 1


@pytest.mark.parametrize("code", [3, 135, 136])
async def test_refused_key_is_permanent_and_never_echoed(
    fake: FakeSzamlazz, base_url: str, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture, code: int
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "zz9wrongkey0000000000000000000000000000000"
    source = make(base_url, sleeps, key=wrong if code == 3 else AGENT_KEY)
    if code != 3:
        fake.fail_next(code=code, message="Előfizetési hiba")
    with pytest.raises(ProviderError) as caught:
        await source.check()
    await source.aclose()
    assert caught.value.permanent
    assert str(caught.value) == f"számlázz.hu: the agent key was refused (error {code})"
    assert fake.requests[-1].error_code == code
    for secret in (wrong, AGENT_KEY):
        assert secret not in str(caught.value) + caplog.text


def test_no_list_call() -> None:
    assert SzamlazzSource.lists_invoices is False
    assert SzamlazzSource.max_attempts == 5


async def test_changed_invoices_is_a_permanent_error(source: SzamlazzSource) -> None:
    with pytest.raises(ProviderError) as caught:
        await source.changed_invoices(None)
    assert caught.value.permanent
    assert "no list call" in str(caught.value)


# --- lookups and parsing ---------------------------------------------------------------------------------------


async def test_invoice_by_number_found(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    found = await source.invoice_by_number("E-RB-2026-100")
    assert found is not None
    invoice = found.invoice
    assert (invoice.id, invoice.number) == (fake.documents["E-RB-2026-100"].id, "E-RB-2026-100")
    assert (invoice.kind, invoice.currency, invoice.gross, invoice.paid) == (
        InvoiceKind.INVOICE, "HUF", Decimal("25400"), Decimal("10000"),
    )  # fmt: skip
    assert invoice.status is InvoiceStatus.PARTIALLY_PAID
    assert invoice.partner_name == "Árvíztűrő Tükörfúrógép Kft."
    assert (invoice.partner_tax_id, invoice.partner_email) == ("12345678-2-42", "szamla@kovacs.example")
    assert (invoice.order_number, invoice.issue_date, invoice.due_date) == (
        "WEB-7", date(2026, 1, 15), date(2026, 1, 23),
    )  # fmt: skip
    assert last(fake, "query").text("szamlaszam") == "E-RB-2026-100"


async def test_invoice_by_number_missing_is_none(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    assert await source.invoice_by_number("E-RB-2026-999") is None
    assert fake.requests[-1].error_code == 7


async def test_find_by_key_queries_szamla_kulso_azon(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    fake.add_invoice("E-RB-2026-200", external_key="reconbot-s9")
    found = await source.find_by_key("reconbot-s9")
    assert found is not None and found.invoice.number == "E-RB-2026-200"
    assert found.external_key == "reconbot-s9"
    assert last(fake, "query").children() == ["szamlaagentkulcs", "szamlaKulsoAzon"]
    assert await source.find_by_key("reconbot-none") is None


SZAMLA = """<?xml version="1.0" encoding="UTF-8"?>
<szamla xmlns="http://www.szamlazz.hu/szamla"><alap><id>77</id><szamlaszam>{number}</szamlaszam><tipus>{tipus}</tipus>
<kelt>2026-01-02</kelt><fizh>2026-01-10</fizh>{extra}<devizanem>{currency}</devizanem></alap>
<vevo><nev>Ügyfél Zrt.</nev><adoszameu>DE123456789</adoszameu></vevo>
<osszegek><totalossz><netto>0</netto><afa>0</afa><brutto>{gross}</brutto></totalossz></osszegek>
<kifizetesek><kifizetes><datum>2026-01-05</datum><jogcim>átutalás</jogcim><osszeg>{paid}</osszeg></kifizetes></kifizetesek>
</szamla>"""


@pytest.mark.parametrize(
    ("tipus", "gross", "paid", "extra", "kind", "status"),
    [
        ("SZ", "1270.50", "1270.50", "", InvoiceKind.INVOICE, InvoiceStatus.PAID),
        ("D", "100", "0", "", InvoiceKind.PROFORMA, InvoiceStatus.ISSUED),
        ("ES", "100", "40", "", InvoiceKind.ADVANCE, InvoiceStatus.PARTIALLY_PAID),
        ("JS", "-100", "0", "", InvoiceKind.CREDIT_NOTE, InvoiceStatus.ISSUED),
        ("HS", "-50", "0", "", InvoiceKind.CREDIT_NOTE, InvoiceStatus.ISSUED),
        ("SS", "-100", "0", "", InvoiceKind.INVOICE, InvoiceStatus.CANCELLED),
        ("SZ", "100", "0", "<stornozott>true</stornozott>", InvoiceKind.INVOICE, InvoiceStatus.CANCELLED),
    ],
)
def test_parse_invoice_xml_kinds_and_status(
    tipus: str, gross: str, paid: str, extra: str, kind: InvoiceKind, status: InvoiceStatus
) -> None:
    data = SZAMLA.format(number="X-1", tipus=tipus, gross=gross, paid=paid, extra=extra, currency="EUR").encode()
    parsed = wire.parse_invoice_xml(data).invoice
    assert (parsed.id, parsed.kind, parsed.status, parsed.currency) == ("77", kind, status, "EUR")
    assert (parsed.gross, parsed.paid) == (Decimal(gross), Decimal(paid))
    assert (parsed.partner_name, parsed.partner_tax_id) == ("Ügyfél Zrt.", "DE123456789")


def test_parse_invoice_xml_rejects_what_is_no_invoice() -> None:
    delivery = SZAMLA.format(number="SL-1", tipus="SL", gross="0", paid="0", extra="", currency="").encode()
    with pytest.raises(wire.NotAnInvoiceError):
        wire.parse_invoice_xml(delivery)
    with pytest.raises(ValueError, match="expected <szamla"):
        wire.parse_invoice_xml(b'<xmlszamlavalasz xmlns="http://www.szamlazz.hu/xmlszamlavalasz"/>')
    with pytest.raises(ValueError, match="not XML"):
        wire.parse_invoice_xml(b"xmlagentresponse=DONE;E-1")
    forint = SZAMLA.format(number="X-2", tipus="SZ", gross="1", paid="0", extra="", currency="Ft").encode()
    assert wire.parse_invoice_xml(forint).invoice.currency == "HUF"


def test_parse_invoice_xml_expands_no_entities() -> None:
    hostile = (
        SZAMLA.format(number="X-3", tipus="SZ", gross="1", paid="0", extra="", currency="HUF")
        .replace("<szamla ", '<!DOCTYPE szamla [<!ENTITY leak SYSTEM "file:///etc/hostname">]>\n<szamla ', 1)
        .replace("Ügyfél Zrt.", "&leak;")
    )
    parsed = wire.parse_invoice_xml(hostile.encode())
    assert parsed.invoice.number == "X-3"
    assert parsed.invoice.partner_name == ""


def test_parse_valasz() -> None:
    error = wire.parse_valasz(
        b'<xmlszamlavalasz xmlns="http://www.szamlazz.hu/xmlszamlavalasz"><sikeres>false</sikeres>'
        b"<hibakod>3</hibakod><hibauzenet><![CDATA[Bejelentkez\xc3\xa9si hiba]]></hibauzenet></xmlszamlavalasz>"
    )
    assert (error.ok, error.code, error.message) == (False, 3, "Bejelentkezési hiba")
    done = wire.parse_valasz(
        b'<xmlszamlavalasz xmlns="http://www.szamlazz.hu/xmlszamlavalasz"><sikeres>true</sikeres>'
        b"<szamlaszam>E-1</szamlaszam><szamlabrutto>38100.5</szamlabrutto><kintlevoseg>0</kintlevoseg>"
        b"</xmlszamlavalasz>"
    )
    assert (done.ok, done.number, done.gross, done.outstanding) == (True, "E-1", Decimal("38100.5"), Decimal(0))


# --- payments --------------------------------------------------------------------------------------------------

INVOICE = DocumentRef("5001", "E-RB-2026-100")


def payment(key: str = "reconbot-p42", amount: str = "5000.50", **kw: object) -> PaymentEntry:
    values: dict[str, object] = {"paid_on": date(2026, 2, 9), "amount": Decimal(amount), "currency": "HUF"}
    values.update(kw)
    return PaymentEntry(key, note="Banki átutalás", **values)  # type: ignore[arg-type]


async def test_register_payment_appends_once(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    done = await source.register_payment(INVOICE, payment(), maybe_done=False)
    assert done.paid_total == Decimal("15000.50") and not done.already
    sent = last(fake, "pay")
    assert sent.field == "action-szamla_agent_kifiz"
    assert sent.tree().tag == "{http://www.szamlazz.hu/xmlszamlakifiz}xmlszamlakifiz"
    assert sent.children() == ["beallitasok", "kifizetes"]
    assert sent.children("beallitasok") == ["szamlaagentkulcs", "szamlaszam", "additiv", "valaszVerzio"]
    assert in_order(sent.children("beallitasok"), wire.PAY_SETTINGS_ORDER)
    assert sent.children("kifizetes") == list(wire.PAYMENT_ORDER)
    assert (sent.text("beallitasok/szamlaszam"), sent.text("beallitasok/additiv")) == ("E-RB-2026-100", "true")
    assert sent.text("kifizetes/datum") == "2026-02-09"
    assert sent.text("kifizetes/jogcim") == "átutalás"
    assert sent.text("kifizetes/osszeg") == "5000.50"
    assert sent.text("kifizetes/leiras") == "Banki átutalás [reconbot-p42]"
    assert [p["osszeg"] for p in fake.documents["E-RB-2026-100"].payments] == ["10000", "5000.50"]

    again = await source.register_payment(INVOICE, payment(), maybe_done=True)
    assert again.already and again.paid_total == Decimal("15000.50")
    assert fake.count("pay", "E-RB-2026-100") == 1
    assert len(fake.documents["E-RB-2026-100"].payments) == 2


async def test_register_payment_maybe_done_sends_when_not_there_yet(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    done = await source.register_payment(INVOICE, payment(method=PaymentMethod.CASH), maybe_done=True)
    assert not done.already
    assert fake.count("query", "E-RB-2026-100") == 1 and fake.count("pay", "E-RB-2026-100") == 1
    assert last(fake, "pay").text("kifizetes/jogcim") == "készpénz"


async def test_a_key_that_prefixes_another_is_not_taken_for_it(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    await source.register_payment(INVOICE, payment("reconbot-p42"), maybe_done=False)
    done = await source.register_payment(INVOICE, payment("reconbot-p4", amount="1"), maybe_done=True)
    assert not done.already
    assert [p["megjegyzes"] for p in fake.documents["E-RB-2026-100"].payments][1:] == [
        "Banki átutalás [reconbot-p42]", "Banki átutalás [reconbot-p4]",
    ]  # fmt: skip
    removed = await source.remove_payment(INVOICE, payment("reconbot-p4"), provider_id="", maybe_done=True)
    assert not removed.already and last(fake, "pay").texts("kifizetes/leiras") == [
        "előleg",
        "Banki átutalás [reconbot-p42]",
    ]


async def test_register_payment_on_unknown_invoice_is_permanent(source: SzamlazzSource) -> None:
    with pytest.raises(ProviderError) as caught:
        await source.register_payment(DocumentRef("1", "E-NOPE-1"), payment(), maybe_done=False)
    assert caught.value.permanent
    assert str(caught.value).startswith("számlázz.hu: invoice E-NOPE-1: not found")


async def test_remove_payment_resends_the_others_replacing(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    await source.register_payment(INVOICE, payment(), maybe_done=False)
    done = await source.remove_payment(INVOICE, payment(), provider_id="", maybe_done=False)
    assert done.paid_total == Decimal("10000") and not done.already
    sent = last(fake, "pay")
    assert sent.text("beallitasok/additiv") == "false"
    assert sent.texts("kifizetes/osszeg") == ["10000"]
    assert sent.texts("kifizetes/leiras") == ["előleg"]
    assert [p["osszeg"] for p in fake.documents["E-RB-2026-100"].payments] == ["10000"]

    again = await source.remove_payment(INVOICE, payment(), provider_id="", maybe_done=True)
    assert again.already and again.paid_total == Decimal("10000")
    assert fake.count("pay", "E-RB-2026-100") == 2


async def test_remove_the_only_payment_sends_no_entry(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    fake.add_invoice("E-RB-2026-300", "1000", payments=(("2026-02-01", "1000", "[reconbot-p7]"),))
    ref = DocumentRef("x", "E-RB-2026-300")
    done = await source.remove_payment(ref, payment("reconbot-p7"), provider_id="", maybe_done=False)
    assert done.paid_total == Decimal(0) and not done.already
    assert last(fake, "pay").children() == ["beallitasok"]
    assert fake.documents["E-RB-2026-300"].payments == []


# --- final invoice from a proforma -----------------------------------------------------------------------------

PROFORMA = DocumentRef("4999", "D-RB-7")


async def test_final_from_proforma_once(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    final = await source.final_from_proforma(PROFORMA, "reconbot-f3", maybe_done=False)
    made = fake.created()
    assert len(made) == 1
    invoice = final.invoice
    assert (invoice.id, invoice.number, invoice.kind) == (made[0].id, made[0].number, InvoiceKind.INVOICE)
    assert (invoice.gross, invoice.paid, invoice.status) == (Decimal("12700"), Decimal("12700"), InvoiceStatus.PAID)
    assert (final.proforma_id, final.external_key) == ("4999", "reconbot-f3")
    assert invoice.partner_name == "Őszibarack Bt." and invoice.order_number == "WEB-9"

    sent = last(fake, "create")
    assert sent.field == "action-xmlagentxmlfile"
    assert sent.tree().tag == "{http://www.szamlazz.hu/xmlszamla}xmlszamla"
    assert sent.children() == ["beallitasok", "fejlec", "elado", "vevo", "tetelek"]
    assert sent.children("beallitasok") == [
        "szamlaagentkulcs", "eszamla", "szamlaLetoltes", "valaszVerzio", "szamlaKulsoAzon",
    ]  # fmt: skip
    assert sent.children("fejlec") == [
        "keltDatum", "teljesitesDatum", "fizetesiHataridoDatum", "fizmod", "penznem", "szamlaNyelve",
        "rendelesSzam", "dijbekeroSzamlaszam", "fizetve",
    ]  # fmt: skip
    for block, constant in (("beallitasok", wire.CREATE_SETTINGS_ORDER), ("fejlec", wire.HEADER_ORDER),
                            ("vevo", wire.BUYER_ORDER), ("tetelek/tetel", wire.ITEM_ORDER)):  # fmt: skip
        assert in_order(sent.children(block), constant), block
    assert sent.text("beallitasok/szamlaKulsoAzon") == "reconbot-f3"
    assert sent.text("beallitasok/szamlaLetoltes") == "false"
    assert sent.text("fejlec/dijbekeroSzamlaszam") == "D-RB-7"
    assert sent.text("fejlec/fizetve") == "true"
    assert sent.text("fejlec/keltDatum") == "2026-02-10"
    assert sent.text("vevo/nev") == "Őszibarack Bt."
    assert sent.text("vevo/adoszam") == "12345678-2-42"
    assert sent.texts("tetelek/tetel/bruttoErtek") == ["12700"]
    assert sent.texts("tetelek/tetel/afakulcs") == ["27"]
    assert made[0].proforma_number == "D-RB-7"

    again = await source.final_from_proforma(PROFORMA, "reconbot-f3", maybe_done=True)
    assert again.invoice.number == invoice.number and again.proforma_id == "4999"
    assert len(fake.created()) == 1 and fake.count("create") == 1


async def test_final_from_proforma_timeout_after_create_then_retry_finds_it(
    fake: FakeSzamlazz, base_url: str, sleeps: RecordingSleep
) -> None:
    source = make(base_url, sleeps, timeout=0.3)
    fake.stall_next_create(1.0)
    with pytest.raises(ProviderError) as caught:
        await source.final_from_proforma(PROFORMA, "reconbot-f4", maybe_done=False)
    assert not caught.value.permanent
    assert len(fake.created()) == 1  # the agent made it although we heard nothing
    again = await source.final_from_proforma(PROFORMA, "reconbot-f4", maybe_done=True)
    await source.aclose()
    assert again.invoice.number == fake.created()[0].number
    assert fake.count("create") == 1
    assert sleeps.waits == []


async def test_final_from_something_not_a_proforma_is_permanent(source: SzamlazzSource) -> None:
    with pytest.raises(ProviderError) as caught:
        await source.final_from_proforma(INVOICE, "reconbot-f5", maybe_done=False)
    assert caught.value.permanent and "no proforma" in str(caught.value)


# --- issuing ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "fizmod"),
    [(PaymentMethod.TRANSFER, "átutalás"), (PaymentMethod.CASH, "készpénz"), (PaymentMethod.CARD, "bankkártya"),
     (PaymentMethod.PAYPAL, "PayPal")],
)  # fmt: skip
async def test_issue_invoice_payment_method(
    fake: FakeSzamlazz, source: SzamlazzSource, method: PaymentMethod, fizmod: str
) -> None:
    await source.issue_invoice(order(method=method), maybe_done=False)
    assert last(fake, "create").text("fejlec/fizmod") == fizmod


async def test_issue_invoice_company_buyer_lines_and_amounts(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    issued = await source.issue_invoice(order(comment="Köszönjük!"), maybe_done=False)
    made = fake.created()[0]
    assert (issued.invoice.id, issued.invoice.number) == (made.id, made.number)
    assert (issued.invoice.gross, issued.invoice.paid) == (Decimal("5203.45"), Decimal("5203.45"))
    assert issued.external_key == "reconbot-s1"
    sent = last(fake, "create")
    assert "Őrölt kávé".encode() in sent.xml and "Éva Kávézó Kft.".encode() in sent.xml  # UTF-8, not escaped
    assert sent.children("vevo") == [
        "nev", "irsz", "telepules", "cim", "email", "sendEmail", "adoalany", "adoszam", "telefonszam",
    ]  # fmt: skip
    assert sent.text("vevo/nev") == "Éva Kávézó Kft."
    assert (sent.text("vevo/adoalany"), sent.text("vevo/adoszam")) == ("1", "12345678-2-08")
    assert (sent.text("vevo/irsz"), sent.text("vevo/telepules")) == ("9021", "Győr")
    assert sent.text("vevo/sendEmail") == "true"
    assert sent.text("fejlec/megjegyzes") == "Köszönjük!"
    assert (sent.text("fejlec/teljesitesDatum"), sent.text("fejlec/fizetesiHataridoDatum")) == (
        "2026-02-09", "2026-02-18",
    )  # fmt: skip
    assert sent.children("tetelek") == ["tetel", "tetel"]
    assert sent.children("tetelek/tetel") == [
        "megnevezes", "mennyiseg", "mennyisegiEgyseg", "nettoEgysegar", "afakulcs", "nettoErtek", "afaErtek",
        "bruttoErtek",
    ]  # fmt: skip
    assert sent.texts("tetelek/tetel/megnevezes") == ["Őrölt kávé", "Borravaló"]
    assert sent.texts("tetelek/tetel/nettoEgysegar") == ["1234.50", "500"]
    assert sent.texts("tetelek/tetel/nettoErtek") == ["3703.50", "500"]
    assert sent.texts("tetelek/tetel/afaErtek") == ["999.95", "0"]
    assert sent.texts("tetelek/tetel/bruttoErtek") == ["4703.45", "500"]
    assert sent.texts("tetelek/tetel/afakulcs") == ["27", "0"]  # the tip at 0 % stays a line of its own


async def test_issue_invoice_private_person_language_currency_unpaid(
    fake: FakeSzamlazz, source: SzamlazzSource
) -> None:
    walk_in = Buyer(name="Magánszemély")
    issued = await source.issue_invoice(
        order(buyer=walk_in, language="en", currency="EUR", send_email=False, paid=False), maybe_done=False
    )
    assert (issued.invoice.paid, issued.invoice.status, issued.invoice.currency) == (
        Decimal(0), InvoiceStatus.ISSUED, "EUR",
    )  # fmt: skip
    sent = last(fake, "create")
    assert sent.children("vevo") == ["nev", "irsz", "telepules", "cim", "sendEmail", "adoalany"]
    assert (sent.text("vevo/nev"), sent.text("vevo/adoalany"), sent.text("vevo/sendEmail")) == (
        "Magánszemély", "-1", "false",
    )  # fmt: skip
    assert (sent.text("vevo/irsz"), sent.text("vevo/telepules"), sent.text("vevo/cim")) == ("", "", "")
    assert (sent.text("fejlec/szamlaNyelve"), sent.text("fejlec/penznem")) == ("en", "EUR")
    assert sent.text("fejlec/fizetve") == "false"
    assert fake.created()[0].payments == []


async def test_issue_invoice_eu_buyer(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    buyer = Buyer(name="Jan Nowak", company_name="Nowak sp. z o.o.", tax_number="PL 5260250274", country="PL")
    await source.issue_invoice(order(buyer=buyer), maybe_done=False)
    sent = last(fake, "create")
    assert (sent.text("vevo/adoalany"), sent.text("vevo/adoszamEU")) == ("6", "PL5260250274")
    assert sent.text("vevo/adoszam") is None and sent.text("vevo/orszag") == "PL"


async def test_issue_invoice_retry_after_timeout_returns_the_made_one(
    fake: FakeSzamlazz, base_url: str, sleeps: RecordingSleep
) -> None:
    source = make(base_url, sleeps, timeout=0.3)
    fake.stall_next_create(1.0)
    with pytest.raises(ProviderError) as caught:
        await source.issue_invoice(order(), maybe_done=False)
    assert not caught.value.permanent and "not retried" in str(caught.value)
    again = await source.issue_invoice(order(), maybe_done=True)
    await source.aclose()
    assert again.invoice.number == fake.created()[0].number and again.external_key == "reconbot-s1"
    assert fake.count("create", "reconbot-s1") == 1


# --- the wire: order, form field, faults -----------------------------------------------------------------------


async def post_raw(
    base_url: str, files: dict[str, tuple[str, bytes, str]] | None = None, data: dict[str, str] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url) as client:
        return await client.post("/szamla/", files=files, data=data)


async def test_fake_rejects_elements_out_of_schema_order_with_57(fake: FakeSzamlazz, base_url: str) -> None:
    request = wire.InvoiceRequest(
        AGENT_KEY, "k", date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 2), "átutalás", "HUF", "hu",
        Buyer(name="Teszt"), (wire.item_from_line(order().lines[1]),), False, True,
    )  # fmt: skip
    good = wire.create_invoice_xml(request)
    swapped = good.replace(b"<penznem>HUF</penznem><szamlaNyelve>hu</szamlaNyelve>",
                           b"<szamlaNyelve>hu</szamlaNyelve><penznem>HUF</penznem>")  # fmt: skip
    assert swapped != good
    answer = await post_raw(base_url, files={wire.CREATE.field: ("request.xml", swapped, "application/xml")})
    assert answer.headers["szlahu_error_code"] == "57"
    assert "szlahu_szamlaszam" not in answer.headers
    ok = await post_raw(base_url, files={wire.CREATE.field: ("request.xml", good, "application/xml")})
    assert "szlahu_error_code" not in ok.headers and ok.headers["szlahu_szamlaszam"]


async def test_fake_wants_a_file_part_and_the_right_root(fake: FakeSzamlazz, base_url: str) -> None:
    xml = wire.query_xml(AGENT_KEY, number="E-RB-2026-100")
    as_value = await post_raw(base_url, data={wire.QUERY.field: xml.decode()})
    assert as_value.headers["szlahu_error_code"] == "53"
    wrong_field = await post_raw(base_url, files={wire.PAY.field: ("request.xml", xml, "application/xml")})
    assert wrong_field.headers["szlahu_error_code"] == "57"


async def test_agent_error_text_is_url_decoded_and_permanent(fake: FakeSzamlazz, source: SzamlazzSource) -> None:
    fake.fail_next(code=57, message="XML olvasási hiba: <fejlec> hiányzik", operation="pay")
    with pytest.raises(AgentError) as caught:
        await source.register_payment(INVOICE, payment(), maybe_done=False)
    assert caught.value.permanent and caught.value.code == 57
    assert "error 57: XML olvasási hiba: <fejlec> hiányzik" in str(caught.value)


@pytest.mark.parametrize("down", [False, True])
async def test_maintenance_is_transient(fake: FakeSzamlazz, source: SzamlazzSource, down: bool) -> None:
    fake.fail_next(code=None if down else 1, down=down, message="Karbantartás")
    with pytest.raises(ProviderError) as caught:
        await source.invoice_by_number("E-RB-2026-100")
    assert not caught.value.permanent
    assert "maintenance" in str(caught.value)


async def test_5xx_is_sent_once_then_a_later_call_succeeds(
    fake: FakeSzamlazz, source: SzamlazzSource, sleeps: RecordingSleep
) -> None:
    fake.fail_next(503)
    with pytest.raises(ProviderError) as caught:
        await source.invoice_by_number("E-RB-2026-100")
    assert not caught.value.permanent and "HTTP 503" in str(caught.value)
    assert fake.count("query", "E-RB-2026-100") == 1 and sleeps.waits == []
    assert await source.invoice_by_number("E-RB-2026-100") is not None


async def test_429_is_not_retried_in_place_and_carries_retry_after(
    fake: FakeSzamlazz, source: SzamlazzSource, sleeps: RecordingSleep
) -> None:
    fake.rate_limit_next(retry_after=7)
    with pytest.raises(RateLimitedError) as caught:
        await source.invoice_by_number("E-RB-2026-100")
    assert caught.value.retry_after == 7
    assert len(fake.requests) == 1 and sleeps.waits == []


@pytest.mark.parametrize(("failing", "pays", "queries"), [("pay", 5, 4), (None, 1, 4)])
async def test_one_request_is_never_sent_more_than_five_times(
    fake: FakeSzamlazz, source: SzamlazzSource, failing: str | None, pays: int, queries: int
) -> None:
    fake.fail_next(503, times=50, operation=failing)
    for attempt in range(1, SzamlazzSource.max_attempts + 1):  # what the write-back queue does at most
        with pytest.raises(ProviderError):
            await source.register_payment(INVOICE, payment(), maybe_done=attempt > 1)
    assert fake.count("pay", "E-RB-2026-100") == pays
    assert fake.count("query", "E-RB-2026-100") == queries  # the maybe_done look-ups of attempts 2-5
    assert max(fake.attempts.values()) <= 5


async def test_secret_never_logged(
    fake: FakeSzamlazz, source: SzamlazzSource, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await source.check()
    await source.register_payment(INVOICE, payment(), maybe_done=True)
    await source.issue_invoice(order(), maybe_done=False)
    fake.fail_next(503)
    with pytest.raises(ProviderError) as caught:
        await source.invoice_by_number("E-RB-2026-100")
    assert caplog.records  # the chokepoint did log each call
    assert AGENT_KEY not in caplog.text and AGENT_KEY not in str(caught.value)
