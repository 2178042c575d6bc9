"""Számlázz.hu through its Számla Agent: one multipart ``POST /szamla/`` per operation, XML in, headers out.

The form field of the XML file part names the operation (``szamlazz_xml.SCHEMAS``); the agent answers
with ``szlahu_*`` headers (text answers, ``valaszVerzio`` 1) or, for a query, the ``<szamla>`` XML
(for a PDF request, the PDF itself).
Errors come as ``szlahu_error_code`` and URL-encoded ``szlahu_error`` headers. The agent has no list
call: invoices reach reconbot by its data push (``szamlazz_xml.parse_invoice_xml``), a CSV import, or
a lookup by number. Reconbot's idempotency keys travel as ``szamlaKulsoAzon`` (documents) and inside
the ``leiras`` of a credit entry (payments).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import ClassVar, NoReturn
from urllib.parse import unquote_plus
from zoneinfo import ZoneInfo

import httpx

from reconbot.core.domain import Direction, Invoice, InvoiceKind, InvoiceStatus
from reconbot.core.errors import ProviderError
from reconbot.core.http_client import IntegrationHttp
from reconbot.core.invoicing import szamlazz_xml as wire
from reconbot.core.invoicing.model import (
    DocumentRef,
    InvoiceOrder,
    InvoicePage,
    PaymentEntry,
    PaymentMethod,
    PaymentResult,
    SourceInvoice,
)
from reconbot.core.invoicing.source import InvoiceSource, SourceContext, require_pdf
from reconbot.core.money import ZERO

log = logging.getLogger(__name__)

NAME = "számlázz.hu"
DEFAULT_BASE_URL = "https://www.szamlazz.hu"
CHECK_NUMBER = "RECONBOT-CHECK"
HUNGARY = ZoneInfo("Europe/Budapest")
METHODS = {
    PaymentMethod.TRANSFER: "átutalás",
    PaymentMethod.CASH: "készpénz",
    PaymentMethod.CARD: "bankkártya",
    PaymentMethod.PAYPAL: "PayPal",
}
LOGIN_FAILED = frozenset({3, 135, 136})
OUR_BUG = frozenset({53, 57})
MAINTENANCE = 1
UNKNOWN_DOCUMENT = 7


class AgentError(ProviderError):
    """An error the agent answered; ``code`` is its ``szlahu_error_code`` (None: none was given)."""

    def __init__(self, message: str, *, code: int | None, permanent: bool, status: int | None = None) -> None:
        super().__init__(message, permanent=permanent, status=status)
        self.code = code


class SzamlazzSource(InvoiceSource):
    """Számlázz.hu's Számla Agent; every method raises ``ProviderError`` (``AgentError`` for the agent's own)."""

    name = "szamlazz"
    label = "Számlázz.hu"
    credential_fields = ("agent_key",)
    optional_fields = ("base_url",)
    lists_invoices = False
    # Számlázz.hu asks that one request be sent at most 5 times, then handed to a person.
    max_attempts: ClassVar[int] = 5

    def __init__(self, agent_key: str, context: SourceContext, base_url: str = DEFAULT_BASE_URL) -> None:
        # The docs say the agent accepts the key only in lowercase.
        self._key = agent_key.strip().lower()
        self._context = context
        # max_attempts=1: the write-back queue already sends an operation up to ``max_attempts`` (5) times in
        # all; HTTP-level retries on top would multiply that past the agent's limit of 5 sends per request.
        # The httpx client inside keeps the JSESSIONID cookie the agent sets, as the agent asks.
        self._http = IntegrationHttp(
            NAME,
            base_url,
            timeout=context.timeout_seconds,
            sleep=context.sleep,
            max_attempts=1,
            headers={"charset": "utf-8"},  # as the official PHP agent sends
        )

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, str], context: SourceContext) -> SzamlazzSource:
        """Return a source for ``agent_key`` (and optional ``base_url``); raises a permanent ``ProviderError``
        naming the missing or malformed field (never its value)."""
        key = str(credentials.get("agent_key") or "").strip()
        if not key:
            raise ProviderError(f"{NAME}: credential 'agent_key' is missing; run `reconbot invoicing setup szamlazz`",
                                permanent=True)  # fmt: skip
        if any(ch.isspace() or not ch.isprintable() for ch in key):
            raise ProviderError(f"{NAME}: credential 'agent_key' is malformed (it holds spaces)", permanent=True)
        base_url = str(credentials.get("base_url") or DEFAULT_BASE_URL).strip().rstrip("/")
        if not base_url.startswith(("https://", "http://")):
            raise ProviderError(f"{NAME}: base_url must start with https://", permanent=True)
        return cls(key, context, base_url)

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- reading -----------------------------------------------------------------------------------------------

    async def check(self) -> str:
        """Return "Számlázz.hu agent key accepted" when the agent takes the key; raises a permanent
        ``ProviderError`` when it refuses it.

        The agent has no free "who am I" call, so this asks for an invoice that surely does not exist:
        "unknown invoice" (error 7) proves the login worked, error 3 that it did not.
        """
        await self._query("checking the agent key", number=CHECK_NUMBER)
        return "Számlázz.hu agent key accepted"

    async def changed_invoices(self, cursor: str | None) -> InvoicePage:
        """Raises a permanent ``ProviderError``: the agent cannot list invoices."""
        raise ProviderError(
            f"{NAME} has no list call; its invoices arrive by its data push, a CSV import or lookup by number",
            permanent=True,
        )

    async def invoice_by_number(self, number: str) -> SourceInvoice | None:
        """Return the invoice numbered ``number``, or None when the agent knows none (error 7)."""
        found = await self._query(f"invoice {number}", number=number)
        return found.source if found else None

    async def find_by_key(self, external_key: str) -> SourceInvoice | None:
        """Return the document reconbot issued with ``szamlaKulsoAzon`` ``external_key``, or None when there is none."""
        found = await self._query(f"document {external_key}", external_key=external_key)
        # The answer need not repeat the key it was found by.
        return replace(found.source, external_key=found.source.external_key or external_key) if found else None

    async def fetch_pdf(self, document: DocumentRef) -> bytes:
        """Return the PDF of invoice ``document.number`` (``action-szamla_agent_pdf``); an unknown number
        (error 7) is a permanent ``ProviderError``, maintenance and 5xx are temporary ones."""
        what = f"invoice {document.number}: its PDF"
        response = await self._send(wire.PDF, wire.pdf_xml(self._key, document.number), what, idempotent=True)
        return require_pdf(NAME, response.content, what)

    # --- payments ------------------------------------------------------------------------------------------------

    async def register_payment(
        self, document: DocumentRef, payment: PaymentEntry, *, maybe_done: bool
    ) -> PaymentResult:
        """Add ``payment`` as a credit entry whose ``leiras`` carries ``payment.key``; return the paid total after.

        With ``maybe_done`` it first reads the invoice and returns ``already=True`` when an entry with the key
        is there. Raises a permanent ``ProviderError`` for an unknown invoice.
        """
        what = f"invoice {document.number}"
        if maybe_done:
            current = await self._require(what, document.number)
            if any(_carries(entry, payment.key) for entry in current.payments):
                return PaymentResult(paid_total=current.source.invoice.paid, already=True)
        note = f"{payment.note} [{payment.key}]" if payment.note else f"[{payment.key}]"
        entry = wire.AgentPayment(payment.paid_on, METHODS[payment.method], payment.amount, note)
        xml = wire.pay_xml(self._key, document.number, [entry], additive=True)
        response = await self._send(wire.PAY, xml, what, idempotent=False)
        return PaymentResult(paid_total=_paid_total(response))

    async def remove_payment(
        self, document: DocumentRef, payment: PaymentEntry, *, provider_id: str, maybe_done: bool
    ) -> PaymentResult:
        """Remove the credit entry carrying ``payment.key``: read the entries, resend all others replacing them
        (``additiv=false``). An entry gone already gives ``already=True``."""
        what = f"invoice {document.number}"
        current = await self._require(what, document.number)
        keep = [entry for entry in current.payments if not _carries(entry, payment.key)]
        if len(keep) == len(current.payments):
            return PaymentResult(paid_total=current.source.invoice.paid, already=True)
        # Unverified: whether additiv=false with no kifizetes at all clears the entries (the XSD may want one).
        xml = wire.pay_xml(self._key, document.number, keep, additive=False)
        response = await self._send(wire.PAY, xml, what, idempotent=False)
        return PaymentResult(paid_total=_paid_total(response))

    # --- issuing -------------------------------------------------------------------------------------------------

    async def final_from_proforma(self, proforma: DocumentRef, external_key: str, *, maybe_done: bool) -> SourceInvoice:
        """Issue the paid final invoice of ``proforma`` (its buyer and items copied, ``dijbekeroSzamlaszam`` set)
        and return it. Raises a permanent ``ProviderError`` when ``proforma`` is unknown or no proforma."""
        if maybe_done and (found := await self.find_by_key(external_key)):
            return replace(found, proforma_id=proforma.external_id)
        what = f"proforma {proforma.number}"
        copied = await self._require(what, proforma.number)
        if copied.type_code != "D":
            raise ProviderError(f"{NAME}: {proforma.number} is no proforma (type {copied.type_code})", permanent=True)
        today = self._context.clock().astimezone(HUNGARY).date()
        invoice = copied.source.invoice
        request = wire.InvoiceRequest(
            agent_key=self._key,
            external_key=external_key,
            issue_date=today,
            fulfillment_date=today,
            due_date=today,
            method=copied.method or METHODS[PaymentMethod.TRANSFER],
            currency=invoice.currency,
            language=copied.language or "hu",
            buyer=copied.buyer,
            items=copied.items,
            # The buyer got the proforma by e-mail, so the final invoice goes the same way when there is an address.
            send_email=bool(copied.buyer.email),
            paid=True,
            order_number=invoice.order_number,
            proforma_number=proforma.number,
        )
        created = await self._create(request, what)
        return replace(created, proforma_id=proforma.external_id)

    async def issue_invoice(self, order: InvoiceOrder, *, maybe_done: bool) -> SourceInvoice:
        """Issue the invoice ``order`` describes (buyer inline) and return it; with ``maybe_done`` first look
        it up by ``szamlaKulsoAzon``."""
        if maybe_done and (found := await self.find_by_key(order.external_key)):
            return found
        request = wire.InvoiceRequest(
            agent_key=self._key,
            external_key=order.external_key,
            issue_date=order.issue_date,
            fulfillment_date=order.fulfillment_date,
            due_date=order.due_date,
            method=METHODS[order.method],
            currency=order.currency,
            language=order.language,
            buyer=order.buyer,
            items=tuple(wire.item_from_line(line) for line in order.lines),
            send_email=order.send_email,
            paid=order.paid,
            comment=order.comment,
        )
        return await self._create(request, f"invoice {order.external_key}")

    async def _create(self, request: wire.InvoiceRequest, what: str) -> SourceInvoice:
        response = await self._send(wire.CREATE, wire.create_invoice_xml(request), what, idempotent=False)
        number = unquote_plus(response.headers.get("szlahu_szamlaszam", ""))
        if not number:
            raise ProviderError(f"{NAME}: {what}: the agent answered without an invoice number", status=200)
        gross = _header_amount(response, "szlahu_bruttovegosszeg")
        if gross is None:
            gross = sum((item.gross for item in request.items), ZERO)
        paid = gross if request.paid else ZERO
        invoice = Invoice(
            id=response.headers.get("szlahu_id") or number,
            number=number,
            direction=Direction.ISSUED,
            kind=InvoiceKind.INVOICE,
            gross=gross,
            currency=request.currency,
            paid=paid,
            status=InvoiceStatus.PAID if request.paid else InvoiceStatus.ISSUED,
            partner_name=request.buyer.invoice_name,
            partner_tax_id=request.buyer.tax_number,
            partner_email=request.buyer.email,
            order_number=request.order_number,
            issue_date=request.issue_date,
            due_date=request.due_date,
        )
        return SourceInvoice(invoice=invoice, external_key=request.external_key)

    # --- the wire ------------------------------------------------------------------------------------------------

    async def _require(self, what: str, number: str) -> wire.ParsedInvoice:
        found = await self._query(what, number=number)
        if found is None:
            raise AgentError(f"{NAME}: {what}: not found", code=UNKNOWN_DOCUMENT, permanent=True)
        return found

    async def _query(self, what: str, *, number: str = "", external_key: str = "") -> wire.ParsedInvoice | None:
        """Return the parsed ``<szamla>`` the agent answers, or None for "unknown document" (error 7)."""
        xml = wire.query_xml(self._key, number=number, external_key=external_key)
        try:
            response = await self._send(wire.QUERY, xml, what, idempotent=True)
        except AgentError as exc:
            if exc.code == UNKNOWN_DOCUMENT:
                return None
            raise
        try:
            return wire.parse_szamla(response.content)
        except ValueError as exc:
            raise ProviderError(f"{NAME}: {what}: unreadable answer ({exc})", status=response.status_code) from None

    async def _send(self, schema: wire.Schema, xml: bytes, what: str, *, idempotent: bool) -> httpx.Response:
        """POST ``xml`` as the file part named for ``schema``; return the answer, or raise the error it carries."""
        response = await self._http.request(
            "POST",
            "/szamla/",
            files={schema.field: ("request.xml", xml, "application/xml")},
            idempotent=idempotent,
        )
        self._raise_for_error(response, what)
        return response

    def _raise_for_error(self, response: httpx.Response, what: str) -> None:
        if response.headers.get("szlahu_down"):
            raise AgentError(f"{NAME} is down for maintenance; try again later", code=None, permanent=False,
                             status=response.status_code)  # fmt: skip
        code_text = response.headers.get("szlahu_error_code", "").strip()
        message = unquote_plus(response.headers.get("szlahu_error", "")).strip()
        if not code_text and b"xmlszamlavalasz" in response.content[:400]:
            try:
                answer = wire.parse_valasz(response.content)
            except ValueError:
                answer = wire.AgentAnswer(ok=True)
            if not answer.ok:
                code_text, message = str(answer.code or ""), message or answer.message
        if code_text:
            code = int(code_text) if code_text.lstrip("-").isdigit() else None
            self._agent_error(code, message, what, response.status_code)
        if response.status_code >= 400:
            raise ProviderError(f"{NAME}: {what}: HTTP {response.status_code}", status=response.status_code,
                                permanent=response.status_code < 500)  # fmt: skip

    def _agent_error(self, code: int | None, message: str, what: str, status: int) -> NoReturn:
        text = " ".join(message.replace(self._key, "***").split())  # one line, never the key
        detail = f"error {code}: {text}" if text else f"error {code}"
        if code in LOGIN_FAILED:
            raise AgentError(f"{NAME}: the agent key was refused (error {code})", code=code, permanent=True,
                             status=status)  # fmt: skip
        if code == MAINTENANCE:
            raise AgentError(f"{NAME}: under maintenance ({detail}); try again later", code=code, permanent=False,
                             status=status)  # fmt: skip
        if code == UNKNOWN_DOCUMENT:
            raise AgentError(f"{NAME}: {what}: not found ({detail})", code=code, permanent=True, status=status)
        if code in OUR_BUG:
            raise AgentError(f"{NAME}: {what}: the agent could not read reconbot's request ({detail}); "
                             "report this to reconbot", code=code, permanent=True, status=status)  # fmt: skip
        # Other codes are data the agent refuses (a missing field, a closed invoice pad): a person must look.
        raise AgentError(f"{NAME}: {what}: refused ({detail})", code=code, permanent=True, status=status)


def _carries(entry: wire.AgentPayment, key: str) -> bool:
    """Return True when the credit entry is reconbot's payment ``key``: its note ends "[<key>]" as we write it."""
    return f"[{key}]" in entry.note


def _header_amount(response: httpx.Response, name: str) -> Decimal | None:
    text = response.headers.get(name, "").strip()
    if not text:
        return None
    try:
        return Decimal(text.replace(",", "."))
    except ArithmeticError:
        return None


def _paid_total(response: httpx.Response) -> Decimal | None:
    """Return gross − outstanding from a credit entry's answer headers, or None when either is missing."""
    gross = _header_amount(response, "szlahu_bruttovegosszeg")
    outstanding = _header_amount(response, "szlahu_kintlevoseg")
    if gross is None or outstanding is None:
        return None
    return gross - outstanding
