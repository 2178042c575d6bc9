"""A fake Számlázz.hu Számla Agent speaking its wire protocol, for tests.

Serve ``FakeSzamlazz(...).app`` with ``tests.fakes.server.serve`` and use the served URL as the source's
``base_url``. One endpoint, ``POST /szamla/``, takes multipart/form-data; the name of the XML FILE part
picks the operation (create ``action-xmlagentxmlfile``, credit entry ``action-szamla_agent_kifiz``, query
``action-szamla_agent_xml``, PDF ``action-szamla_agent_pdf``: the PDF as the body, or with ``valaszVerzio`` 2
base64 inside an ``xmlszamlavalasz``; its text names the invoice number). Like the real agent it wants the
XML as a file (else error 53), checks root, namespace and element order against the
``reconbot.core.invoicing.szamlazz_xml`` order tuples (else error 57) and the agent key (else error 3), and answers
errors in ``szlahu_error_code``/``szlahu_error`` headers.

Knobs: ``add_invoice``/``add_proforma`` seed documents; ``fail_next`` (an HTTP status or an agent error
code), ``rate_limit_next``, ``stall_next_create`` (create, then answer late) inject trouble; ``count``
tells how often one (operation, identifier) was requested, ``requests`` holds every request received.
"""

from __future__ import annotations

import asyncio
import secrets
from base64 import b64encode
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import quote_plus

from aiohttp import web
from lxml import etree

from reconbot.core.invoicing import szamlazz_xml as wire
from tests.fakes.pdf import pdf_with_text

OPERATIONS = {wire.CREATE.field: "create", wire.PAY.field: "pay", wire.QUERY.field: "query", wire.PDF.field: "pdf"}
REQUIRED = {
    "xmlszamla": ("beallitasok", "fejlec", "vevo", "tetelek"),
    "xmlszamla/fejlec": ("keltDatum", "teljesitesDatum", "fizetesiHataridoDatum", "fizmod", "penznem", "szamlaNyelve"),
    "xmlszamla/vevo": ("nev", "irsz", "telepules", "cim"),
    "xmlszamla/tetelek": ("tetel",),
    "xmlszamla/tetelek/tetel": (
        "megnevezes",
        "mennyiseg",
        "mennyisegiEgyseg",
        "nettoEgysegar",
        "afakulcs",
        "nettoErtek",
        "afaErtek",
        "bruttoErtek",
    ),
    "xmlszamlakifiz": ("beallitasok",),
    "xmlszamlakifiz/beallitasok": ("szamlaszam", "additiv"),
    "xmlszamlakifiz/kifizetes": ("datum", "jogcim", "osszeg"),
}
AMOUNTS = frozenset({"mennyiseg", "nettoEgysegar", "nettoErtek", "afaErtek", "bruttoErtek", "osszeg"})


class AgentFault(Exception):
    """An error the fake answers in the agent's headers."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Recorded:
    """One request the fake received; ``xml`` is the file part, ``field`` its form-field name."""

    method: str
    path: str
    headers: dict[str, str]
    cookies: dict[str, str]
    field: str = ""
    filename: str = ""
    content_type: str = ""
    xml: bytes = b""
    operation: str = ""
    identifier: str = ""
    status: int = 0
    error_code: int | None = None

    def tree(self) -> etree._Element:
        return etree.fromstring(self.xml)

    def children(self, path: str = "") -> list[str]:
        """Return the local names of the children of the block at ``path`` ("" = the root), in document order."""
        block = self.tree() if not path else _find(self.tree(), path)
        return [etree.QName(child).localname for child in block] if block is not None else []

    def text(self, path: str) -> str | None:
        """Return the text at ``path`` (e.g. "fejlec/fizmod"), None when the element is absent."""
        found = _find(self.tree(), path)
        return None if found is None else (found.text or "")

    def texts(self, path: str) -> list[str]:
        """Return the text of every element at ``path`` (e.g. "tetelek/tetel/afakulcs")."""
        root = self.tree()
        ns = etree.QName(root).namespace
        return [e.text or "" for e in root.iterfind("/".join(f"{{{ns}}}{p}" for p in path.split("/")))]


@dataclass
class FakeDocument:
    """A document the fake agent holds: seeded, or created through it."""

    id: str
    number: str
    type_code: str = "SZ"
    issue_date: date = date(2026, 1, 15)
    due_date: date = date(2026, 1, 23)
    method: str = "átutalás"
    currency: str = "HUF"
    language: str = "hu"
    order_number: str = ""
    comment: str = ""
    buyer: dict[str, str] = field(default_factory=dict)  # the vevo elements sent (or seeded) by name
    items: list[dict[str, str]] = field(default_factory=list)  # the tetel elements by name
    payments: list[dict[str, str]] = field(default_factory=list)  # datum, jogcim, osszeg, megjegyzes
    external_key: str = ""
    proforma_number: str = ""
    settings: dict[str, str] = field(default_factory=dict)  # beallitasok of a created document

    def total(self, name: str) -> Decimal:
        return sum((Decimal(item[name]) for item in self.items), Decimal(0))

    @property
    def gross(self) -> Decimal:
        return self.total("bruttoErtek")

    @property
    def paid(self) -> Decimal:
        return sum((Decimal(p["osszeg"]) for p in self.payments), Decimal(0))


class FakeSzamlazz:
    """In-memory Számla Agent holding documents and their credit entries."""

    def __init__(self, *, agent_key: str = "fake-agent-key") -> None:
        self.agent_key = agent_key
        self.documents: dict[str, FakeDocument] = {}
        self.requests: list[Recorded] = []
        self.attempts: Counter[tuple[str, str]] = Counter()
        self.sessions: list[str] = []  # every JSESSIONID handed out
        self._next_id = 5000
        self._next_number = 1
        self._failures: list[tuple[str | None, int | None, int | None, str, bool]] = []
        self._stalls: list[float] = []
        self._app = web.Application()
        self._app.router.add_post("/szamla/", self._agent)

    @property
    def app(self) -> web.Application:
        return self._app

    # --- knobs ---------------------------------------------------------------------------------------------

    def add_invoice(
        self,
        number: str,
        gross: Decimal | str = "12700",
        *,
        type_code: str = "SZ",
        buyer_name: str = "Kovács Kft.",
        buyer_tax: str = "12345678-2-42",
        buyer_email: str = "szamla@kovacs.example",
        vat_key: str = "27",
        currency: str = "HUF",
        external_key: str = "",
        order_number: str = "",
        method: str = "átutalás",
        payments: tuple[tuple[str, str, str], ...] = (),
    ) -> FakeDocument:
        """Seed a document with one item worth ``gross``; ``payments`` are (datum, osszeg, megjegyzes)."""
        gross = Decimal(gross)
        rate = Decimal(vat_key) if vat_key.isdigit() else Decimal(0)
        net = (gross * 100 / (100 + rate)).quantize(Decimal("0.01"))
        document = FakeDocument(
            id=self._new_id(),
            number=number,
            type_code=type_code,
            currency=currency,
            method=method,
            order_number=order_number,
            external_key=external_key,
            buyer={
                "nev": buyer_name,
                "orszag": "Magyarország",
                "irsz": "1051",
                "telepules": "Budapest",
                "cim": "Fő utca 1.",
                "email": buyer_email,
                "adoszam": buyer_tax,
            },
            items=[
                {
                    "megnevezes": "Tanácsadás",
                    "mennyiseg": "1",
                    "mennyisegiEgyseg": "óra",
                    "nettoEgysegar": str(net),
                    "afakulcs": vat_key,
                    "nettoErtek": str(net),
                    "afaErtek": str(gross - net),
                    "bruttoErtek": str(gross),
                }
            ],
            payments=[{"datum": d, "jogcim": method, "osszeg": a, "megjegyzes": m} for d, a, m in payments],
        )
        self.documents[number] = document
        return document

    def add_proforma(self, number: str, gross: Decimal | str = "12700", **kwargs: object) -> FakeDocument:
        """Seed a proforma (díjbekérő, type D); takes ``add_invoice``'s keywords."""
        return self.add_invoice(number, gross, type_code="D", **kwargs)  # type: ignore[arg-type]

    def fail_next(
        self,
        status: int = 503,
        times: int = 1,
        *,
        code: int | None = None,
        message: str = "",
        operation: str | None = None,
        down: bool = False,
    ) -> None:
        """Answer the next ``times`` requests (of ``operation``: create/pay/query, or any) with HTTP ``status``,
        or — given ``code`` — with that agent error in its headers (HTTP 200); ``down`` sends ``szlahu_down``."""
        for _ in range(times):
            self._failures.append((operation, None if code is not None or down else status, code, message, down))

    def rate_limit_next(self, times: int = 1, retry_after: float = 1) -> None:
        """Answer the next ``times`` requests with 429 and ``Retry-After: retry_after``."""
        for _ in range(times):
            self._failures.append((None, 429, None, str(retry_after), False))

    def stall_next_create(self, seconds: float) -> None:
        """Make the next create store its document, then wait ``seconds`` before answering."""
        self._stalls.append(seconds)

    def count(self, operation: str, identifier: str | None = None) -> int:
        """Return how many requests of ``operation`` (for ``identifier``: invoice number, or our key) arrived."""
        return sum(n for (op, ident), n in self.attempts.items() if op == operation and identifier in (None, ident))

    def created(self) -> list[FakeDocument]:
        """Return the documents made through the agent, oldest first."""
        return [d for d in self.documents.values() if d.settings]

    # --- the endpoint --------------------------------------------------------------------------------------

    async def _agent(self, request: web.Request) -> web.StreamResponse:
        recorded = Recorded(request.method, request.path, dict(request.headers), dict(request.cookies))
        self.requests.append(recorded)
        response = await self._answer(request, recorded)
        if "JSESSIONID" not in request.cookies:
            session = secrets.token_hex(8)
            self.sessions.append(session)
            response.set_cookie("JSESSIONID", session, path="/")
        recorded.status = response.status
        recorded.error_code = (
            int(response.headers["szlahu_error_code"]) if "szlahu_error_code" in response.headers else None
        )
        return response

    async def _answer(self, request: web.Request, recorded: Recorded) -> web.Response:
        try:
            root, schema = await self._read(request, recorded)
            failure = self._take_failure(recorded.operation)
            if failure is not None:
                return failure
            settings = root if schema in (wire.QUERY, wire.PDF) else _find(root, "beallitasok")
            if settings is None or _child_text(settings, "szamlaagentkulcs") != self.agent_key:
                raise AgentFault(3, "Sikertelen bejelentkezés.")
            if schema is wire.CREATE:
                return await self._create(root)
            if schema is wire.PAY:
                return self._pay(root)
            if schema is wire.PDF:
                return self._pdf(root)
            return self._query(root)
        except AgentFault as fault:
            headers = {"szlahu_error_code": str(fault.code), "szlahu_error": quote_plus(fault.message)}
            return web.Response(text=fault.message, headers=headers)

    async def _read(self, request: web.Request, recorded: Recorded) -> tuple[etree._Element, wire.Schema]:
        form = await request.post()
        names = [name for name in form if name.startswith("action-")]
        if len(names) != 1:
            raise AgentFault(53, "Hiányzó XML fájl.")
        part = form[names[0]]
        recorded.field = names[0]
        if not isinstance(part, web.FileField):
            raise AgentFault(53, "Az XML-t fájlként kell feltölteni.")
        recorded.filename, recorded.content_type = part.filename, part.content_type
        recorded.xml = part.file.read()
        schema = wire.SCHEMAS.get(names[0])
        if schema is None:
            raise AgentFault(53, f"Ismeretlen művelet: {names[0]}")
        recorded.operation = OPERATIONS[schema.field]
        try:
            root = etree.fromstring(recorded.xml)
        except etree.XMLSyntaxError as exc:
            raise AgentFault(57, f"XML olvasási hiba: {exc.msg}") from None
        qname = etree.QName(root)
        if qname.localname != schema.root or qname.namespace != schema.namespace:
            raise AgentFault(57, f"XML olvasási hiba: a gyökérelem {qname.text}, várt: {schema.root}")
        recorded.identifier = _identifier(root, schema)
        self.attempts[(recorded.operation, recorded.identifier)] += 1
        _validate(root, schema.root, "")
        return root, schema

    def _take_failure(self, operation: str) -> web.Response | None:
        for index, (wanted, status, code, message, down) in enumerate(self._failures):
            if wanted not in (None, operation):
                continue
            del self._failures[index]
            if down:
                return web.Response(text="A rendszer karbantartás miatt nem elérhető.", headers={"szlahu_down": "true"})
            if code is not None:
                raise AgentFault(code, message or f"Hiba {code}")
            headers = {"Retry-After": message} if status == 429 else {}
            return web.Response(status=status or 503, text="Service Unavailable", headers=headers)
        return None

    # --- operations ----------------------------------------------------------------------------------------

    async def _create(self, root: etree._Element) -> web.Response:
        settings = _values(_find(root, "beallitasok"))
        header = _values(_find(root, "fejlec"))
        proforma = header.get("dijbekero") == "true"
        number = f"D-RB-{self._next_number}" if proforma else f"E-RB-2026-{self._next_number}"
        self._next_number += 1
        document = FakeDocument(
            id=self._new_id(),
            number=number,
            type_code="D" if proforma else "SZ",
            issue_date=date.fromisoformat(header["keltDatum"]),
            due_date=date.fromisoformat(header["fizetesiHataridoDatum"]),
            method=header["fizmod"],
            currency=header["penznem"],
            language=header["szamlaNyelve"],
            order_number=header.get("rendelesSzam", ""),
            comment=header.get("megjegyzes", ""),
            buyer=_values(_find(root, "vevo")),
            items=[_values(t) for t in _iter(root, "tetelek/tetel")],
            external_key=settings.get("szamlaKulsoAzon", ""),
            proforma_number=header.get("dijbekeroSzamlaszam", ""),
            settings=settings,
        )
        if header.get("fizetve") == "true":
            document.payments.append(
                {
                    "datum": header["keltDatum"],
                    "jogcim": document.method,
                    "osszeg": str(document.gross),
                    "megjegyzes": "",
                }
            )
        self.documents[number] = document
        if self._stalls:
            await asyncio.sleep(self._stalls.pop(0))
        return self._totals(document, settings, body=f"xmlagentresponse=DONE;{number}")

    def _pay(self, root: etree._Element) -> web.Response:
        settings = _values(_find(root, "beallitasok"))
        document = self.documents.get(settings["szamlaszam"])
        if document is None:
            raise AgentFault(7, f"Nem létező számlaszám: {settings['szamlaszam']}")
        entries = [_values(entry) for entry in _iter(root, "kifizetes")]
        stored = [
            {"datum": e["datum"], "jogcim": e["jogcim"], "osszeg": e["osszeg"], "megjegyzes": e.get("leiras", "")}
            for e in entries
        ]
        document.payments = [*document.payments, *stored] if settings["additiv"] == "true" else stored
        return self._totals(document, settings, body=f"xmlagentresponse=DONE;{document.number}")

    def _query(self, root: etree._Element) -> web.Response:
        wanted = _values(root)
        matches = [
            d
            for d in self.documents.values()
            if (wanted.get("szamlaszam") and d.number == wanted["szamlaszam"])
            or (wanted.get("szamlaKulsoAzon") and d.external_key == wanted["szamlaKulsoAzon"])
            or (wanted.get("rendelesSzam") and d.order_number == wanted["rendelesSzam"])
        ]
        if not matches:
            raise AgentFault(7, "A számla nem található.")
        return web.Response(body=szamla_xml(matches[-1]), content_type="application/xml", charset="utf-8")

    def _pdf(self, root: etree._Element) -> web.Response:
        wanted = _values(root)
        matches = [
            d
            for d in self.documents.values()
            if (wanted.get("szamlaszam") and d.number == wanted["szamlaszam"])
            or (wanted.get("szamlaKulsoAzon") and d.external_key == wanted["szamlaKulsoAzon"])
        ]
        if not matches:
            raise AgentFault(7, "A számla nem található.")
        pdf = pdf_with_text(f"Számla {matches[-1].number}")
        headers = {"szlahu_szamlaszam": quote_plus(matches[-1].number), "szlahu_id": matches[-1].id}
        if wanted.get("valaszVerzio") != "2":
            return web.Response(body=pdf, content_type="application/pdf", headers=headers)
        answer = etree.Element(f"{{{wire.VALASZ_NS}}}xmlszamlavalasz", nsmap={None: wire.VALASZ_NS})  # type: ignore[dict-item]
        for name, value in (("sikeres", "true"), ("szamlaszam", matches[-1].number), ("pdf", b64encode(pdf).decode())):
            etree.SubElement(answer, f"{{{wire.VALASZ_NS}}}{name}").text = value
        return web.Response(body=etree.tostring(answer, xml_declaration=True, encoding="UTF-8"), headers=headers)

    def _totals(self, document: FakeDocument, settings: dict[str, str], *, body: str) -> web.Response:
        outstanding = max(document.gross - document.paid, Decimal(0))
        headers = {
            "szlahu_szamlaszam": quote_plus(document.number),
            "szlahu_id": document.id,
            "szlahu_nettovegosszeg": str(document.total("nettoErtek")),
            "szlahu_bruttovegosszeg": str(document.gross),
            "szlahu_kintlevoseg": str(outstanding),
        }
        if settings.get("valaszVerzio") == "2":
            answer = etree.Element(f"{{{wire.VALASZ_NS}}}xmlszamlavalasz", nsmap={None: wire.VALASZ_NS})  # type: ignore[dict-item]
            for name, value in (
                ("sikeres", "true"),
                ("szamlaszam", document.number),
                ("szamlabrutto", str(document.gross)),
                ("kintlevoseg", str(outstanding)),
            ):
                etree.SubElement(answer, f"{{{wire.VALASZ_NS}}}{name}").text = value
            return web.Response(body=etree.tostring(answer, xml_declaration=True, encoding="UTF-8"), headers=headers)
        return web.Response(text=body, headers=headers)

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)


def szamla_xml(document: FakeDocument) -> bytes:
    """Return the ``<szamla>`` query answer for ``document``, shaped like the agent's sample answer."""
    ns = wire.SZAMLA_NS
    root = etree.Element(f"{{{ns}}}szamla", nsmap={None: ns})  # type: ignore[dict-item]

    def add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        element = etree.SubElement(parent, f"{{{ns}}}{name}")
        element.text = text
        return element

    seller = add(root, "szallito")
    add(seller, "nev", "Reconbot Teszt Kft.")
    alap = add(root, "alap")
    for name, value in (
        ("id", document.id),
        ("szamlaszam", document.number),
        ("tipus", document.type_code),
        ("eszamla", "2"),
        ("hivdijbekszam", document.proforma_number),
        ("kelt", document.issue_date.isoformat()),
        ("telj", document.issue_date.isoformat()),
        ("fizh", document.due_date.isoformat()),
        ("fizmod", document.method),
        ("rendelesszam", document.order_number),
        ("nyelv", document.language),
        ("devizanem", document.currency),
        ("megjegyzes", document.comment),
        ("teszt", "true"),
    ):
        add(alap, name, value)
    buyer = add(root, "vevo")
    add(buyer, "nev", document.buyer.get("nev", ""))
    address = add(buyer, "cim")
    for name in ("orszag", "irsz", "telepules", "cim"):
        add(address, name, document.buyer.get(name, ""))
    add(buyer, "email", document.buyer.get("email", ""))
    add(buyer, "adoszam", document.buyer.get("adoszam", ""))
    add(buyer, "adoszameu", document.buyer.get("adoszamEU", ""))
    items = add(root, "tetelek")
    for item in document.items:
        tetel = add(items, "tetel")
        for name, key in (
            ("nev", "megnevezes"),
            ("mennyiseg", "mennyiseg"),
            ("mennyisegiegyseg", "mennyisegiEgyseg"),
            ("nettoegysegar", "nettoEgysegar"),
            ("afakulcs", "afakulcs"),
            ("netto", "nettoErtek"),
            ("afa", "afaErtek"),
            ("brutto", "bruttoErtek"),
            ("megjegyzes", "megjegyzes"),
        ):
            add(tetel, name, item.get(key, ""))
    total = add(add(root, "osszegek"), "totalossz")
    add(total, "netto", str(document.total("nettoErtek")))
    add(total, "afa", str(document.total("afaErtek")))
    add(total, "brutto", str(document.gross))
    if document.payments:
        payments = add(root, "kifizetesek")
        for payment in document.payments:
            entry = add(payments, "kifizetes")
            for name in ("datum", "jogcim", "osszeg", "megjegyzes"):
                add(entry, name, payment[name])
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


# --- XML helpers -----------------------------------------------------------------------------------------------


def _find(root: etree._Element, path: str) -> etree._Element | None:
    ns = etree.QName(root).namespace
    return root.find("/".join(f"{{{ns}}}{part}" if ns else part for part in path.split("/")))


def _iter(root: etree._Element, path: str) -> list[etree._Element]:
    ns = etree.QName(root).namespace
    return list(root.iterfind("/".join(f"{{{ns}}}{part}" for part in path.split("/"))))


def _child_text(block: etree._Element, name: str) -> str:
    return _values(block).get(name, "")


def _values(block: etree._Element | None) -> dict[str, str]:
    """Return the leaf children of ``block`` as {local name: text}."""
    if block is None:
        return {}
    return {etree.QName(child).localname: (child.text or "") for child in block if len(child) == 0}


def _identifier(root: etree._Element, schema: wire.Schema) -> str:
    if schema in (wire.QUERY, wire.PDF):
        values = _values(root)
        return values.get("szamlaszam") or values.get("szamlaKulsoAzon") or values.get("rendelesSzam") or ""
    settings = _values(_find(root, "beallitasok"))
    return settings.get("szamlaszam" if schema is wire.PAY else "szamlaKulsoAzon", "")


def _validate(block: etree._Element, path: str, parent: str) -> None:
    """Raise error 57 for an element out of XSD order, unknown, repeated, missing, or a malformed amount."""
    key = f"{parent}/{path}" if parent else path
    order = wire.BLOCK_ORDERS.get(key)
    if order is None:
        return
    names = [etree.QName(child).localname for child in block]
    last = -1
    for name in names:
        if name not in order:
            raise AgentFault(57, f"XML olvasási hiba: ismeretlen elem <{name}> itt: {key}")
        index = order.index(name)
        if index < last or (index == last and name not in wire.REPEATABLE):
            raise AgentFault(57, f"XML olvasási hiba: <{name}> rossz helyen itt: {key}")
        last = index
    for name in REQUIRED.get(key, ()):
        if name not in names:
            raise AgentFault(57, f"XML olvasási hiba: hiányzó elem <{name}> itt: {key}")
    for child in block:
        name = etree.QName(child).localname
        if name in AMOUNTS:
            try:
                Decimal(child.text or "")
            except InvalidOperation:
                raise AgentFault(57, f"XML olvasási hiba: <{name}> nem szám: {child.text!r}") from None
        _validate(child, name, key)
