"""Billingo API v3: the invoices we issued, their payments, final invoices of proformas, new invoices.

Auth is one API key in ``X-API-KEY``. Billingo v3 has no webhooks and holds only the documents
we issued, so ``changed_invoices`` polls ``GET /documents?last_modified_date=``. reconbot's keys
ride in Billingo's own fields: a payment's ``voucher_number`` and a new document's ``vendor_id``
(``GET /documents/vendor/{vendor_id}`` finds it again after a timeout).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from reconbot.core.errors import ProviderError
from reconbot.core.http_client import IntegrationHttp, response_json
from reconbot.core.invoicing.billingo_wire import (
    NAME,
    decimal,
    document_body,
    dumps,
    error_text,
    kind_of,
    paid_from_status,
    partner_body,
    payment_body,
    payments_total,
    same_partner,
    to_source_invoice,
)
from reconbot.core.invoicing.model import (
    Buyer,
    DocumentRef,
    InvoiceOrder,
    InvoicePage,
    PaymentEntry,
    PaymentResult,
    SourceInvoice,
)
from reconbot.core.invoicing.source import InvoiceSource, SourceContext, require_pdf
from reconbot.core.money import ZERO

DEFAULT_BASE_URL = "https://api.billingo.hu/v3"
PER_PAGE = 100  # the most Billingo serves per page
JSON = {"Content-Type": "application/json"}
UNSENT = (None, "", "none", "failed")  # DocumentNotificationStatus values meaning no e-mail went out


class BillingoSource(InvoiceSource):
    """Billingo API v3 client; every method raises ``ProviderError`` on failure (permanent when retrying
    cannot help: a refused key, an unknown document, a request Billingo rejects)."""

    name = NAME
    label = "Billingo"
    credential_fields = ("api_key",)
    optional_fields = ("block_id",)  # the document block (számlatömb) new invoices go to; default: the first

    def __init__(self, api_key: str, context: SourceContext, *, block_id: str = "", base_url: str = DEFAULT_BASE_URL):
        self._api_key = api_key
        self._context = context
        self._block_id = block_id
        self._http = IntegrationHttp(
            NAME,
            base_url,
            timeout=context.timeout_seconds,
            sleep=context.sleep,
            headers={"X-API-KEY": api_key, "Accept": "application/json"},
        )

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, str], context: SourceContext) -> BillingoSource:
        """Return a source for ``api_key`` (plus optional ``block_id`` and ``base_url``); raises a permanent
        ``ProviderError`` naming the missing or malformed field (never its value)."""
        api_key = str(credentials.get("api_key") or "").strip()
        if not api_key:
            raise ProviderError(
                f"{NAME}: credential 'api_key' is missing; run `reconbot invoicing setup billingo`", permanent=True
            )
        block_id = str(credentials.get("block_id") or "").strip()
        if block_id and not block_id.isdigit():
            raise ProviderError(f"{NAME}: block_id must be the number of a document block", permanent=True)
        base_url = str(credentials.get("base_url") or DEFAULT_BASE_URL).strip().rstrip("/")
        if not base_url.startswith(("https://", "http://")):
            raise ProviderError(f"{NAME}: base_url must start with https://", permanent=True)
        return cls(api_key, context, block_id=block_id, base_url=base_url)

    async def check(self) -> str:
        """Return who answered: the organisation's tax number (``GET /organization``)."""
        found = _obj(await self._call("GET", "/organization", "checking the API key"))
        tax_code = str(found.get("tax_code") or "").strip()
        return f"Billingo organisation {tax_code}" if tax_code else "Billingo organisation (no tax number given)"

    # --- reading ---------------------------------------------------------------------------------------------

    async def changed_invoices(self, cursor: str | None) -> InvoicePage:
        """Return the invoices, proformas, advance invoices and cancellations modified on or after the cursor's
        day, and today's date as the next cursor (``YYYY-MM-DD``).

        The day overlaps the previous pull on purpose: Billingo filters by whole days in its own (Budapest)
        time, which is never behind our UTC date, so nothing falls between two pulls (the spec's example
        value is a datetime; a bare date is taken to mean its midnight, unverified). Raises a permanent
        ``ProviderError`` for a cursor that is not a date.
        """
        today = self._context.clock().date()
        since = _cursor_day(cursor) if cursor else today - timedelta(days=self._context.first_sync_days)
        invoices = []
        params = {"last_modified_date": since.isoformat()}
        async for document in self._documents(params, "listing changed documents"):
            if kind_of(document) is not None:
                invoices.append(await self._source(document))
        return InvoicePage(invoices, today.isoformat())

    async def invoice_by_number(self, number: str) -> SourceInvoice | None:
        """Return the tracked document numbered exactly ``number`` (Billingo's free-text search, then an exact
        match), or None."""
        number = number.strip()
        async for document in self._documents({"query": number}, f"invoice {number}: searching"):
            if str(document.get("invoice_number") or "").strip() == number and kind_of(document) is not None:
                return await self._source(document)
        return None

    async def fetch_pdf(self, document: DocumentRef) -> bytes:
        """Return the document's PDF (``GET /documents/{id}/download``).

        Billingo renders a PDF some time after issuing and answers 202 until then: that is a temporary
        ``ProviderError`` (status 202), as are 5xx answers; an unknown document is a permanent one.
        """
        doing = f"invoice {document.number}: downloading its PDF"
        if not document.external_id.isdigit():
            raise ProviderError(f"{NAME}: {doing}: {document.external_id[:40]!r} is no Billingo document id",
                                permanent=True)  # fmt: skip
        response = await self._http.request(
            "GET", f"/documents/{document.external_id}/download", headers={"Accept": "application/pdf"}
        )
        if response.status_code == 202:
            raise ProviderError(f"{NAME}: invoice {document.number}: the PDF is not ready yet; try again later",
                                status=202)  # fmt: skip
        if response.status_code >= 400:
            raise self._error(response, doing, document.external_id)
        return require_pdf(NAME, response.content, doing)

    # --- payments --------------------------------------------------------------------------------------------

    async def register_payment(
        self, document: DocumentRef, payment: PaymentEntry, *, maybe_done: bool
    ) -> PaymentResult:
        """Append ``payment`` to the document's payment history unless an entry carries ``payment.key`` as its
        voucher number; return the paid total Billingo then shows.

        The history is always read first (the PUT needs it whole), so ``maybe_done`` changes nothing here.
        """
        history = await self._payments(document.external_id, document.number)
        if any(_voucher(entry) == payment.key for entry in history):
            return PaymentResult(paid_total=payments_total(history), already=True)
        updated = await self._put_payments(document, [*history, payment_body(payment)])
        return PaymentResult(paid_total=payments_total(updated))

    async def remove_payment(
        self, document: DocumentRef, payment: PaymentEntry, *, provider_id: str, maybe_done: bool
    ) -> PaymentResult:
        """Drop the payment whose voucher number is ``payment.key`` (``provider_id`` is unused: Billingo payments
        have no id); return the paid total left, ``already=True`` when no such payment was there."""
        history = await self._payments(document.external_id, document.number)
        rest = [entry for entry in history if _voucher(entry) != payment.key]
        if len(rest) == len(history):
            return PaymentResult(paid_total=payments_total(history), already=True)
        if rest:
            return PaymentResult(paid_total=payments_total(await self._put_payments(document, rest)))
        # DELETE removes the whole history; preferred to PUT [] which Billingo may refuse (unverified).
        await self._call(
            "DELETE",
            _payments_path(document.external_id),
            f"invoice {document.number}: removing the payment",
            idempotent=False,
            document_id=document.external_id,
        )
        return PaymentResult(paid_total=ZERO)

    # --- issuing ---------------------------------------------------------------------------------------------

    async def final_from_proforma(self, proforma: DocumentRef, external_key: str, *, maybe_done: bool) -> SourceInvoice:
        """Issue the final invoice of ``proforma`` and record its gross as paid (voucher number ``external_key``,
        so a retry never pays it twice); return it.

        With ``maybe_done`` an invoice among the proforma's ``related_documents`` is taken instead of a new one.
        """
        final = await self._final_of(proforma) if maybe_done else None
        if final is None:
            final = _obj(
                await self._call(
                    "POST",
                    f"/documents/{proforma.external_id}/create-from-proforma",
                    f"proforma {proforma.number}: issuing the final invoice",
                    idempotent=False,
                    document_id=proforma.external_id,
                )
            )
        ref = DocumentRef(str(final.get("id") or ""), str(final.get("invoice_number") or ""))
        history = await self._payments(ref.external_id, ref.number)
        # Billingo may carry the proforma's payment over by itself: then it is paid already (unverified).
        if final.get("payment_status") != "paid" and not any(_voucher(e) == external_key for e in history):
            entry = {
                "date": self._context.clock().date().isoformat(),
                "price": abs(decimal(final.get("gross_total"))),
                "payment_method": final.get("payment_method") or "wire_transfer",
                "voucher_number": external_key,
            }
            history = await self._put_payments(ref, [*history, entry])
        paid = payments_total(history) if history else (paid_from_status(final) or ZERO)
        return to_source_invoice(final, paid, proforma_id=proforma.external_id, external_key=external_key)

    async def issue_invoice(self, order: InvoiceOrder, *, maybe_done: bool) -> SourceInvoice:
        """Issue the invoice ``order`` describes (its buyer made a Billingo partner, reused when an identical one
        exists) and e-mail it when ``order.send_email``; return it.

        With ``maybe_done`` the document whose ``vendor_id`` is ``order.external_key`` is returned instead,
        and e-mailed if Billingo says it has not been e-mailed yet.
        """
        key = order.external_key
        if maybe_done:
            found = await self._call(
                "GET", f"/documents/vendor/{quote(key, safe='')}", f"invoice {key}: looking it up", missing_ok=True
            )
            if found is not None:
                found = _obj(found)
                # Read "none"/"failed" as "not e-mailed yet" (unverified): the earlier attempt may have stopped
                # between creating and sending; only a send that itself timed out can make this a second e-mail.
                if order.send_email and order.buyer.email and found.get("notification_status") in UNSENT:
                    await self._send(found, order.buyer.email)
                return await self._source(found, external_key=key)
        block_id = await self._block()
        partner_id = await self._partner(order.buyer)
        created = _obj(
            await self._call(
                "POST",
                "/documents",
                f"invoice {key}: issuing it",
                body=document_body(order, partner_id, block_id),
                idempotent=False,
            )
        )
        if order.send_email and order.buyer.email:
            await self._send(created, order.buyer.email)
        return await self._source(created, external_key=key)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    # --- helpers ---------------------------------------------------------------------------------------------

    async def _documents(self, params: Mapping[str, str], doing: str) -> AsyncIterator[dict[str, Any]]:
        """Yield every document of every page of ``GET /documents`` with ``params``."""
        page = 1
        while True:
            found = _obj(
                await self._call(
                    "GET", "/documents", doing, params={**params, "page": str(page), "per_page": str(PER_PAGE)}
                )
            )
            data = [item for item in found.get("data") or () if isinstance(item, dict)]
            for document in data:
                yield document
            last_page = int(found.get("last_page") or 1)
            page = int(found.get("current_page") or page) + 1
            if not data or page > last_page:
                return

    async def _source(self, document: Mapping[str, Any], *, external_key: str = "") -> SourceInvoice:
        """Return ``document`` mapped; a partly paid one costs a payment-history call for its paid amount."""
        paid = paid_from_status(document)
        if paid is None:
            paid = payments_total(await self._payments(str(document.get("id")), str(document.get("invoice_number"))))
        return to_source_invoice(document, paid, external_key=external_key)

    async def _payments(self, document_id: str, number: str) -> list[dict[str, Any]]:
        found = await self._call(
            "GET", _payments_path(document_id), f"invoice {number}: reading payments", document_id=document_id
        )
        return [entry for entry in found or () if isinstance(entry, dict)]

    async def _put_payments(self, document: DocumentRef, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # PUT replaces the whole history (inferred: array in, array out), so a blind resend after a timeout
        # could overwrite a payment added meanwhile: not idempotent, the queue retries with a fresh read.
        found = await self._call(
            "PUT",
            _payments_path(document.external_id),
            f"invoice {document.number}: recording payments",
            body=history,
            idempotent=False,
            document_id=document.external_id,
        )
        return [entry for entry in found or () if isinstance(entry, dict)]

    async def _final_of(self, proforma: DocumentRef) -> dict[str, Any] | None:
        """Return the live (not cancelled) invoice among the proforma's related documents, or None."""
        doing = f"proforma {proforma.number}"
        found = _obj(
            await self._call("GET", f"/documents/{proforma.external_id}", doing, document_id=proforma.external_id)
        )
        for related in found.get("related_documents") or ():
            related_id = str(related.get("id") or "") if isinstance(related, dict) else ""
            if not related_id:
                continue
            document = _obj(await self._call("GET", f"/documents/{related_id}", doing, document_id=related_id))
            if document.get("type") == "invoice" and not document.get("cancelled"):
                return document
        return None

    async def _block(self) -> str:
        """Return the configured document block, else the first invoice block Billingo lists (then remembered)."""
        if not self._block_id:
            # DocumentBlockList is assumed to be {data: [{id, name, ...}]} like every list (unverified).
            found = _obj(
                await self._call(
                    "GET",
                    "/document-blocks",
                    "reading document blocks",
                    params={"type": "invoice", "per_page": str(PER_PAGE)},
                )
            )
            blocks = [b for b in found.get("data") or () if isinstance(b, dict) and b.get("id")]
            if not blocks:
                raise ProviderError(
                    f"{NAME}: the account has no invoice document block; create one in Billingo or set block_id",
                    permanent=True,
                )
            self._block_id = str(blocks[0]["id"])
        return self._block_id

    async def _partner(self, buyer: Buyer) -> str:
        """Return the id of a partner identical to ``buyer`` (first page of Billingo's search), else of a new one.

        A retry after a lost answer may leave one unused partner behind; that harms no invoice.
        """
        wanted = partner_body(buyer)
        query = buyer.tax_number or buyer.invoice_name
        found = _obj(
            await self._call(
                "GET", "/partners", "looking up the buyer", params={"query": query, "per_page": str(PER_PAGE)}
            )
        )
        for partner in found.get("data") or ():
            if isinstance(partner, dict) and partner.get("id") and same_partner(partner, wanted):
                return str(partner["id"])
        created = _obj(await self._call("POST", "/partners", "creating the buyer", body=wanted, idempotent=False))
        return str(created.get("id") or "")

    async def _send(self, document: Mapping[str, Any], email: str) -> None:
        document_id = str(document.get("id") or "")
        await self._call(
            "POST",
            f"/documents/{document_id}/send",
            f"invoice {document.get('invoice_number')}: e-mailing it",
            body={"emails": [email]},
            idempotent=False,
            document_id=document_id,
        )

    async def _call(
        self,
        method: str,
        path: str,
        doing: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        idempotent: bool = True,
        document_id: str = "",
        missing_ok: bool = False,
    ) -> Any:
        """Send one request; return its parsed JSON (None for an empty body, or a 404 when ``missing_ok``).

        Raises ``ProviderError``: permanent for every 4xx (``document <id> not found`` for a 404 on
        ``document_id``), temporary for the rest.
        """
        response = await self._http.request(
            method,
            path,
            params=params,
            idempotent=idempotent,
            content=None if body is None else dumps(body),
            headers=None if body is None else JSON,
        )
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise self._error(response, doing, document_id)
        return response_json(response, NAME) if response.content.strip() else None

    def _error(self, response: httpx.Response, doing: str, document_id: str) -> ProviderError:
        status = response.status_code
        if status in (401, 403):
            return ProviderError(
                f"{NAME}: the API key was refused (HTTP {status}); make a v3 read/write key at "
                "app.billingo.hu/api-key and run `reconbot invoicing setup billingo`",
                permanent=True,
                status=status,
            )
        if status == 402:
            return ProviderError(
                f"{NAME}: the account has no API subscription (HTTP 402); API access needs Billingo's API add-on",
                permanent=True,
                status=status,
            )
        if status == 404 and document_id:
            return ProviderError(f"{NAME}: document {document_id} not found", permanent=True, status=status)
        detail = error_text(response).replace(self._api_key, "***") or "refused"
        return ProviderError(f"{NAME}: {doing}: {detail} (HTTP {status})", permanent=status < 500, status=status)


def _obj(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProviderError(f"{NAME}: expected a JSON object, got {type(value).__name__}")
    return value


def _voucher(entry: Mapping[str, Any]) -> str:
    return str(entry.get("voucher_number") or "")


def _payments_path(document_id: str) -> str:
    return f"/documents/{document_id}/payments"


def _cursor_day(cursor: str) -> date:
    try:
        return date.fromisoformat(cursor.strip()[:10])
    except ValueError:
        raise ProviderError(f"{NAME}: sync cursor {cursor[:40]!r} is not a date (YYYY-MM-DD)", permanent=True) from None
