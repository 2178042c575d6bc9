"""The Számla Agent's XML: requests in XSD sequence order, and the answers parsed into reconbot's values.

The agent validates every request against its XSD, whose blocks are ``xs:sequence``s: an element
out of place is error 57. Each block's order lives in ONE tuple below; the serializer emits the
elements it has in exactly that order, and the fake agent of the tests checks against the same tuples.
Amounts are written as their exact decimal text, never through float.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from reconbot.core.domain import Direction, Invoice, InvoiceKind, status_for
from reconbot.core.invoicing.model import Buyer, InvoiceLine, SourceInvoice
from reconbot.core.money import ZERO, format_amount

XSI = "http://www.w3.org/2001/XMLSchema-instance"
SZAMLA_NS = "http://www.szamlazz.hu/szamla"  # the query answer (and, unverified, the data push)
VALASZ_NS = "http://www.szamlazz.hu/xmlszamlavalasz"


@dataclass(frozen=True)
class Schema:
    """One request schema: its root element, the XSD folder and the multipart field that selects the operation."""

    root: str
    directory: str
    field: str

    @property
    def namespace(self) -> str:
        return f"http://www.szamlazz.hu/{self.root}"

    @property
    def location(self) -> str:
        return f"https://www.szamlazz.hu/szamla/docs/xsds/{self.directory}/{self.root}.xsd"


CREATE = Schema("xmlszamla", "agent", "action-xmlagentxmlfile")
PAY = Schema("xmlszamlakifiz", "agentkifiz", "action-szamla_agent_kifiz")
QUERY = Schema("xmlszamlaxml", "agentxml", "action-szamla_agent_xml")
PDF = Schema("xmlszamlapdf", "agentpdf", "action-szamla_agent_pdf")
SCHEMAS = {schema.field: schema for schema in (CREATE, PAY, QUERY, PDF)}

# --- element order of every block (XSD sequences, as the official PHP agent 2.x emits them) ---------------------
CREATE_ORDER = ("beallitasok", "fejlec", "elado", "vevo", "fuvarlevel", "tetelek")
CREATE_SETTINGS_ORDER = (
    "felhasznalo", "jelszo", "szamlaagentkulcs", "eszamla", "szamlaLetoltes", "szamlaLetoltesPld", "valaszVerzio",
    "aggregator", "guardian", "cikkazoninvoice", "szamlaKulsoAzon",
)  # fmt: skip
HEADER_ORDER = (
    "keltDatum", "teljesitesDatum", "fizetesiHataridoDatum", "fizmod", "penznem", "szamlaNyelve", "megjegyzes",
    "arfolyamBank", "arfolyam", "rendelesSzam", "dijbekeroSzamlaszam", "elolegszamla", "vegszamla", "elolegSzamlaszam",
    "helyesbitoszamla", "helyesbitettSzamlaszam", "dijbekero", "szallitolevel", "logoExtra", "szamlaszamElotag",
    "fizetendoKorrekcio", "fizetve", "arresAfa", "eusAfa", "szamlaSablon", "elonezetpdf",
)  # fmt: skip
SELLER_ORDER = ("bank", "bankszamlaszam", "emailReplyto", "emailTargy", "emailSzoveg", "alairoNeve")
BUYER_ORDER = (
    "nev", "orszag", "irsz", "telepules", "cim", "email", "sendEmail", "adoalany", "adoszam", "csoportazonosito",
    "adoszamEU", "postazasiNev", "postazasiOrszag", "postazasiIrsz", "postazasiTelepules", "postazasiCim",
    "vevoFokonyv", "azonosito", "alairoNeve", "telefonszam", "megjegyzes",
)  # fmt: skip
ITEMS_ORDER = ("tetel",)
ITEM_ORDER = (
    "megnevezes", "azonosito", "mennyiseg", "mennyisegiEgyseg", "nettoEgysegar", "afakulcs", "arresAfaAlap",
    "nettoErtek", "afaErtek", "bruttoErtek", "megjegyzes", "tetelFokonyv", "torloKod",
)  # fmt: skip
PAY_ORDER = ("beallitasok", "kifizetes")
PAY_SETTINGS_ORDER = (
    "felhasznalo", "jelszo", "szamlaagentkulcs", "szamlaszam", "adoszam", "additiv", "aggregator", "valaszVerzio",
)  # fmt: skip
PAYMENT_ORDER = ("datum", "jogcim", "osszeg", "leiras")
QUERY_ORDER = ("felhasznalo", "jelszo", "szamlaagentkulcs", "szamlaszam", "rendelesSzam", "pdf", "szamlaKulsoAzon")
# The HU and EN pages of the PDF XSD disagree on where rendelesSzam goes; reconbot never sends it, so it is left out.
PDF_ORDER = ("felhasznalo", "jelszo", "szamlaagentkulcs", "szamlaszam", "valaszVerzio", "szamlaKulsoAzon")

#: block path (root/child/...) -> the order of its children; a fake agent checks each block it finds here.
BLOCK_ORDERS: dict[str, tuple[str, ...]] = {
    "xmlszamla": CREATE_ORDER,
    "xmlszamla/beallitasok": CREATE_SETTINGS_ORDER,
    "xmlszamla/fejlec": HEADER_ORDER,
    "xmlszamla/elado": SELLER_ORDER,
    "xmlszamla/vevo": BUYER_ORDER,
    "xmlszamla/tetelek": ITEMS_ORDER,
    "xmlszamla/tetelek/tetel": ITEM_ORDER,
    "xmlszamlakifiz": PAY_ORDER,
    "xmlszamlakifiz/beallitasok": PAY_SETTINGS_ORDER,
    "xmlszamlakifiz/kifizetes": PAYMENT_ORDER,
    "xmlszamlaxml": QUERY_ORDER,
    "xmlszamlapdf": PDF_ORDER,
}
#: elements that may occur more than once in a row
REPEATABLE = frozenset({"tetel", "kifizetes"})

_HU_TAX_NUMBER = re.compile(r"(\d{8})-?(\d)-?(\d{2})")
_EU_VAT_ID = re.compile(r"([A-Z]{2})[0-9A-Z+*]{2,13}")
EU_VAT_PREFIXES = frozenset(
    "AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK XI".split()
)


@dataclass(frozen=True)
class AgentItem:
    """One ``tetel`` as the agent has it. ``vat_key`` is the ``afakulcs`` text: a rate ("27", "0") or a key
    such as "AAM" that a proforma copied into its final invoice must keep."""

    name: str
    quantity: Decimal
    unit: str
    unit_net: Decimal
    vat_key: str
    net: Decimal
    vat: Decimal
    gross: Decimal
    comment: str = ""


@dataclass(frozen=True)
class AgentPayment:
    """One ``kifizetes`` (credit entry). ``note`` is our ``leiras``; the query answers it as ``megjegyzes``."""

    paid_on: date
    method: str
    amount: Decimal
    note: str = ""


@dataclass(frozen=True)
class InvoiceRequest:
    """Everything an ``xmlszamla`` we send carries. ``method`` is the ``fizmod`` text (átutalás, …)."""

    agent_key: str
    external_key: str
    issue_date: date
    fulfillment_date: date
    due_date: date
    method: str
    currency: str
    language: str
    buyer: Buyer
    items: tuple[AgentItem, ...]
    send_email: bool
    paid: bool
    comment: str = ""
    order_number: str = ""
    proforma_number: str = ""
    e_invoice: bool = True


@dataclass(frozen=True)
class ParsedInvoice:
    """A ``<szamla>`` answer: the reconbot view plus what copying it or its payments needs."""

    source: SourceInvoice
    type_code: str
    method: str
    language: str
    buyer: Buyer
    items: tuple[AgentItem, ...]
    payments: tuple[AgentPayment, ...]


@dataclass(frozen=True)
class AgentAnswer:
    """An ``xmlszamlavalasz``: success flag, error code and text, and the totals when it succeeded."""

    ok: bool
    code: int | None = None
    message: str = ""
    number: str = ""
    net: Decimal | None = None
    gross: Decimal | None = None
    outstanding: Decimal | None = None


class NotAnInvoiceError(ValueError):
    """The ``<szamla>`` is a document reconbot does not track as an invoice (a delivery note)."""


# --- writing ---------------------------------------------------------------------------------------------------


def _text(value: bool | Decimal | date | int | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _block(parent: etree._Element, ns: str, tag: str, order: tuple[str, ...], values: Mapping[str, object]) -> None:
    """Append ``<tag>`` with the ``values`` that are not None, in ``order`` (unknown names are a bug: ValueError)."""
    unknown = set(values) - set(order)
    if unknown:
        raise ValueError(f"{tag}: not in the schema: {sorted(unknown)}")
    block = etree.SubElement(parent, f"{{{ns}}}{tag}")
    _fill(block, ns, order, values)


def _fill(element: etree._Element, ns: str, order: tuple[str, ...], values: Mapping[str, object]) -> None:
    for name in order:
        value = values.get(name)
        if value is not None:
            assert isinstance(value, bool | Decimal | date | int | str)
            etree.SubElement(element, f"{{{ns}}}{name}").text = _text(value)


def _root(schema: Schema) -> etree._Element:
    nsmap = {None: schema.namespace, "xsi": XSI}  # the default namespace is keyed None; lxml-stubs say str only
    root = etree.Element(f"{{{schema.namespace}}}{schema.root}", nsmap=nsmap)  # type: ignore[arg-type]
    root.set(f"{{{XSI}}}schemaLocation", f"{schema.namespace} {schema.location}")
    return root


def _bytes(root: etree._Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + bytes(etree.tostring(root, encoding="UTF-8"))


def buyer_tax_fields(tax_number: str) -> dict[str, object]:
    """Return ``adoalany`` and the tax-number field for ``tax_number``: 1 + ``adoszam`` for a Hungarian one
    (xxxxxxxx-y-zz), 6 + ``adoszamEU`` for an EU VAT id, -1 for none, 7 + ``adoszamEU`` for anything else."""
    compact = re.sub(r"[\s.]", "", tax_number).upper()
    if not compact:
        return {"adoalany": -1}
    if hu := _HU_TAX_NUMBER.fullmatch(compact):
        return {"adoalany": 1, "adoszam": "-".join(hu.groups())}
    if (eu := _EU_VAT_ID.fullmatch(compact)) and eu.group(1) in EU_VAT_PREFIXES:
        return {"adoalany": 6, "adoszamEU": compact}
    # A company outside the EU: its number is no Hungarian adószám, so it goes where free text is accepted
    # (unverified that the agent accepts a non-EU number in adoszamEU).
    return {"adoalany": 7, "adoszamEU": tax_number.strip()}


def create_invoice_xml(request: InvoiceRequest) -> bytes:
    """Return the ``xmlszamla`` document for ``request`` (text answer: ``valaszVerzio`` 1, no PDF)."""
    ns = CREATE.namespace
    root = _root(CREATE)
    _block(root, ns, "beallitasok", CREATE_SETTINGS_ORDER, {
        "szamlaagentkulcs": request.agent_key,
        "eszamla": request.e_invoice,
        "szamlaLetoltes": False,
        "valaszVerzio": 1,
        "szamlaKulsoAzon": request.external_key or None,
    })  # fmt: skip
    _block(root, ns, "fejlec", HEADER_ORDER, {
        "keltDatum": request.issue_date,
        "teljesitesDatum": request.fulfillment_date,
        "fizetesiHataridoDatum": request.due_date,
        "fizmod": request.method,
        "penznem": request.currency,
        "szamlaNyelve": request.language,
        "megjegyzes": request.comment or None,
        "rendelesSzam": request.order_number or None,
        "dijbekeroSzamlaszam": request.proforma_number or None,
        "fizetve": request.paid,
    })  # fmt: skip
    # The seller is the account's own data; an empty block keeps the account's bank and e-mail settings.
    _block(root, ns, "elado", SELLER_ORDER, {})
    buyer = request.buyer
    _block(root, ns, "vevo", BUYER_ORDER, {
        "nev": buyer.invoice_name,
        # orszag is printed as given; left out for Hungary, which is the agent's default (unverified).
        "orszag": buyer.country if buyer.country.upper() not in ("", "HU") else None,
        # irsz, telepules and cim are required elements: a walk-in buyer's empty address is sent empty.
        "irsz": buyer.post_code,
        "telepules": buyer.city,
        "cim": buyer.address,
        "email": buyer.email or None,
        "sendEmail": request.send_email,
        **buyer_tax_fields(buyer.tax_number),
        "telefonszam": buyer.phone or None,
    })  # fmt: skip
    items = etree.SubElement(root, f"{{{ns}}}tetelek")
    for item in request.items:
        _block(items, ns, "tetel", ITEM_ORDER, {
            "megnevezes": item.name,
            "mennyiseg": item.quantity,
            "mennyisegiEgyseg": item.unit,
            "nettoEgysegar": item.unit_net,
            "afakulcs": item.vat_key,
            "nettoErtek": item.net,
            "afaErtek": item.vat,
            "bruttoErtek": item.gross,
            "megjegyzes": item.comment or None,
        })  # fmt: skip
    return _bytes(root)


def pay_xml(agent_key: str, number: str, payments: Iterable[AgentPayment], *, additive: bool) -> bytes:
    """Return the ``xmlszamlakifiz`` document: ``additive`` keeps the earlier credit entries, else replaces them."""
    ns = PAY.namespace
    root = _root(PAY)
    _block(root, ns, "beallitasok", PAY_SETTINGS_ORDER, {
        "szamlaagentkulcs": agent_key, "szamlaszam": number, "additiv": additive, "valaszVerzio": 1,
    })  # fmt: skip
    for payment in payments:
        _block(root, ns, "kifizetes", PAYMENT_ORDER, {
            "datum": payment.paid_on, "jogcim": payment.method, "osszeg": payment.amount,
            "leiras": payment.note or None,
        })  # fmt: skip
    return _bytes(root)


def query_xml(agent_key: str, *, number: str = "", external_key: str = "") -> bytes:
    """Return the ``xmlszamlaxml`` document asking for one invoice by number or by our ``szamlaKulsoAzon``."""
    root = _root(QUERY)
    _fill(root, QUERY.namespace, QUERY_ORDER, {
        "szamlaagentkulcs": agent_key, "szamlaszam": number or None, "szamlaKulsoAzon": external_key or None,
    })  # fmt: skip
    return _bytes(root)


def pdf_xml(agent_key: str, number: str) -> bytes:
    """Return the ``xmlszamlapdf`` document asking for the PDF of invoice ``number`` as the plain answer body
    (``valaszVerzio`` 1; 2 would wrap it base64 in XML)."""
    root = _root(PDF)
    _fill(root, PDF.namespace, PDF_ORDER, {"szamlaagentkulcs": agent_key, "szamlaszam": number, "valaszVerzio": 1})
    return _bytes(root)


def item_from_line(line: InvoiceLine) -> AgentItem:
    """Return the ``tetel`` of one order line; the rate becomes integer text when whole ("27", "0")."""
    rate = line.vat_rate
    vat_key = str(int(rate)) if rate == rate.to_integral_value() else format_amount(rate.normalize())
    unit_net = line.unit_net
    exponent = unit_net.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:  # net/quantity did not divide evenly: a readable unit price
        unit_net = unit_net.quantize(Decimal("0.000001")).normalize()
    return AgentItem(line.name, line.quantity, line.unit, unit_net, vat_key, line.net, line.vat, line.gross)


# --- reading ---------------------------------------------------------------------------------------------------

# No entities, no network, no DTD: the data push parses XML that arrives from outside.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _document(data: bytes, local: str, namespace: str) -> tuple[etree._Element, str]:
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not XML ({exc.msg})") from None
    qname = etree.QName(root)
    if qname.localname != local or qname.namespace not in (namespace, None):
        raise ValueError(f"expected <{local} xmlns={namespace!r}>, got <{qname.localname}>")
    return root, qname.namespace or ""


def _text_at(element: etree._Element | None, ns: str, path: str) -> str:
    if element is None:
        return ""
    found = element.find("/".join(f"{{{ns}}}{part}" if ns else part for part in path.split("/")))
    return (found.text or "").strip() if found is not None else ""


def _decimal(text: str, what: str) -> Decimal:
    try:
        return Decimal(text.replace(" ", "").replace(",", ".")) if text else ZERO
    except InvalidOperation:
        raise ValueError(f"{what}: {text!r} is not a number") from None


def _date(text: str, what: str, required: bool = False) -> date | None:
    if not text:
        if required:
            raise ValueError(f"{what} is missing")
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not a date") from None


_KINDS = {
    "SZ": InvoiceKind.INVOICE,
    "VS": InvoiceKind.INVOICE,
    "SS": InvoiceKind.INVOICE,
    "HS": InvoiceKind.INVOICE,
    "D": InvoiceKind.PROFORMA,
    "ES": InvoiceKind.ADVANCE,
    "JS": InvoiceKind.CREDIT_NOTE,
}
_TRUE = frozenset({"true", "1", "igen"})


def parse_szamla(data: bytes) -> ParsedInvoice:
    """Parse a ``<szamla xmlns="http://www.szamlazz.hu/szamla">`` document.

    Returns the invoice (ISSUED: the agent holds only the account's own documents) with its buyer,
    items and credit entries. Raises ``NotAnInvoiceError`` for a delivery note and ``ValueError``
    (with the reason) for anything else that is not such a document.
    """
    root, ns = _document(data, "szamla", SZAMLA_NS)
    alap = root.find(f"{{{ns}}}alap" if ns else "alap")
    vevo = root.find(f"{{{ns}}}vevo" if ns else "vevo")
    number = _text_at(alap, ns, "szamlaszam")
    if not number:
        raise ValueError("alap/szamlaszam is missing")
    type_code = _text_at(alap, ns, "tipus").upper()
    if type_code == "SL":
        raise NotAnInvoiceError(f"{number} is a delivery note")
    if type_code not in _KINDS:
        raise ValueError(f"{number}: unknown document type {type_code!r}")
    gross = _decimal(_text_at(root, ns, "osszegek/totalossz/brutto"), "osszegek/totalossz/brutto")
    kind = _KINDS[type_code]
    if type_code == "HS" and gross < 0:
        kind = InvoiceKind.CREDIT_NOTE
    payments = tuple(
        AgentPayment(
            paid_on=_date(_text_at(entry, ns, "datum"), "kifizetes/datum", required=True) or date.min,
            method=_text_at(entry, ns, "jogcim"),
            amount=_decimal(_text_at(entry, ns, "osszeg"), "kifizetes/osszeg"),
            note=_text_at(entry, ns, "megjegyzes"),
        )
        for entry in root.iterfind(f"{{{ns}}}kifizetesek/{{{ns}}}kifizetes" if ns else "kifizetesek/kifizetes")
    )
    paid = sum((payment.amount for payment in payments), ZERO)
    # A storno invoice (SS) cancels; a "stornozott"/"storno" flag on the cancelled one is assumed (unverified).
    cancelled = type_code == "SS" or any(_text_at(alap, ns, flag).lower() in _TRUE for flag in ("stornozott", "storno"))
    # The query names the currency devizanem (penznem assumed as an alias); empty or "Ft" means forint.
    currency = (_text_at(alap, ns, "devizanem") or _text_at(alap, ns, "penznem")).upper()
    currency = "HUF" if currency in ("", "FT") else currency
    tax_id = _text_at(vevo, ns, "adoszam") or _text_at(vevo, ns, "adoszameu")
    buyer = Buyer(
        name=_text_at(vevo, ns, "nev"),
        email=_text_at(vevo, ns, "email"),
        country=_text_at(vevo, ns, "cim/orszag"),
        post_code=_text_at(vevo, ns, "cim/irsz"),
        city=_text_at(vevo, ns, "cim/telepules"),
        address=_text_at(vevo, ns, "cim/cim"),
        tax_number=tax_id,
    )
    invoice = Invoice(
        id=_text_at(alap, ns, "id") or number,
        number=number,
        direction=Direction.ISSUED,
        kind=kind,
        gross=gross,
        currency=currency,
        paid=paid,
        status=status_for(gross, paid, cancelled),
        partner_name=buyer.name,
        partner_tax_id=tax_id,
        partner_email=buyer.email,
        order_number=_text_at(alap, ns, "rendelesszam"),
        issue_date=_date(_text_at(alap, ns, "kelt"), "alap/kelt"),
        due_date=_date(_text_at(alap, ns, "fizh"), "alap/fizh"),
    )
    items = tuple(
        AgentItem(
            name=_text_at(tetel, ns, "nev"),
            quantity=_decimal(_text_at(tetel, ns, "mennyiseg"), "tetel/mennyiseg"),
            unit=_text_at(tetel, ns, "mennyisegiegyseg"),
            unit_net=_decimal(_text_at(tetel, ns, "nettoegysegar"), "tetel/nettoegysegar"),
            vat_key=_text_at(tetel, ns, "afakulcs"),
            net=_decimal(_text_at(tetel, ns, "netto"), "tetel/netto"),
            vat=_decimal(_text_at(tetel, ns, "afa"), "tetel/afa"),
            gross=_decimal(_text_at(tetel, ns, "brutto"), "tetel/brutto"),
            comment=_text_at(tetel, ns, "megjegyzes"),
        )
        for tetel in root.iterfind(f"{{{ns}}}tetelek/{{{ns}}}tetel" if ns else "tetelek/tetel")
    )
    source = SourceInvoice(
        invoice=invoice,
        # The answer names the proforma by number only (hivdijbekszam); there is no id of it to give.
        proforma_id=_text_at(alap, ns, "hivdijbekszam"),
        external_key=_text_at(alap, ns, "szamlaKulsoAzon"),  # unverified that the answer carries it
    )
    return ParsedInvoice(
        source=source,
        type_code=type_code,
        method=_text_at(alap, ns, "fizmod"),
        language=_text_at(alap, ns, "nyelv"),
        buyer=buyer,
        items=items,
        payments=payments,
    )


def parse_invoice_xml(data: bytes) -> SourceInvoice:
    """Return the invoice of a ``<szamla>`` document: the query answer, and (assumed, unverified) the body of
    Számlázz.hu's data push. Raises ``NotAnInvoiceError`` for a delivery note, ``ValueError`` for anything else
    that is not such a document."""
    return parse_szamla(data).source


def parse_valasz(data: bytes) -> AgentAnswer:
    """Parse an ``xmlszamlavalasz`` answer; raises ``ValueError`` when ``data`` is not one."""
    root, ns = _document(data, "xmlszamlavalasz", VALASZ_NS)
    code = _text_at(root, ns, "hibakod")

    def amount(name: str) -> Decimal | None:
        text = _text_at(root, ns, name)
        return _decimal(text, name) if text else None

    return AgentAnswer(
        ok=_text_at(root, ns, "sikeres").lower() == "true",
        code=int(code) if code.lstrip("-").isdigit() else None,
        message=_text_at(root, ns, "hibauzenet"),
        number=_text_at(root, ns, "szamlaszam"),
        net=amount("szamlanetto"),
        gross=amount("szamlabrutto"),
        outstanding=amount("kintlevoseg"),
    )
