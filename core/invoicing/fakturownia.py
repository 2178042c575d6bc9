"""Fakturownia (InvoiceOcean): invoices issued and received, payments, final invoices, new invoices.

The account lives at ``https://<account>.fakturownia.pl``. Per the official README the API token
travels as the ``api_token`` query parameter of a GET/DELETE and as a top-level ``"api_token"``
key of a JSON body; ``IntegrationHttp`` logs paths only, so it never reaches a log.

reconbot's idempotency keys: a payment carries ``[<key>]`` in its description and name, an
invoice reconbot makes carries the key as its ``oid`` (sent with ``oid_unique=yes``, so
Fakturownia itself refuses a second document with the same key). The sync cursor is the ISO
timestamp of the newest ``updated_at`` seen.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import httpx

from reconbot.core.errors import ProviderError
from reconbot.core.http_client import IntegrationHttp, response_json
from reconbot.core.invoicing.fakturownia_wire import (
    NAME,
    amount,
    carries_key,
    decimal_text,
    error_text,
    invoice_body,
    parse_moment,
    payment_body,
    to_source_invoice,
    wire_id,
)
from reconbot.core.invoicing.model import (
    DocumentRef,
    InvoiceOrder,
    InvoicePage,
    PaymentEntry,
    PaymentResult,
    SourceInvoice,
)
from reconbot.core.invoicing.source import InvoiceSource, SourceContext, require_pdf

log = logging.getLogger(__name__)

PER_PAGE = 100  # the README's maximum
MAX_PAGES = 1000  # a guard against a server that ignores ``page``; 100,000 changes in one pull is not a real case
OID_SCAN_PAGES = 3  # no documented oid filter: look through the 300 newest documents of the last 30 days
SETUP = "run `reconbot invoicing setup fakturownia`"
ACCOUNT_ZONE = ZoneInfo("Europe/Warsaw")  # assumed: the time zone a Fakturownia account dates its documents in
_ACCOUNT = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class FakturowniaSource(InvoiceSource):
    """Fakturownia client; every method raises ``ProviderError`` (permanent when retrying cannot help)."""

    name = "fakturownia"
    label = "Fakturownia"
    credential_fields = ("api_token", "account")

    def __init__(self, api_token: str, base_url: str, context: SourceContext) -> None:
        self.base_url = base_url
        self._token = api_token
        self._context = context
        self._http = IntegrationHttp(
            NAME,
            base_url,
            timeout=context.timeout_seconds,
            sleep=context.sleep,
            headers={"Accept": "application/json"},
        )

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, str], context: SourceContext) -> FakturowniaSource:
        """Return a source for ``api_token`` and ``account`` (the subdomain, or the account's address);
        ``base_url`` replaces the address. Raises a permanent ``ProviderError`` naming the bad field."""
        token = str(credentials.get("api_token") or "").strip()
        if not token:
            raise ProviderError(f"{NAME}: credential 'api_token' is missing; {SETUP}", permanent=True)
        base_url = str(credentials.get("base_url") or "").strip().rstrip("/")
        if base_url and not base_url.startswith(("https://", "http://")):
            raise ProviderError(f"{NAME}: base_url must start with https://", permanent=True)
        if not base_url:
            base_url = f"https://{_account(str(credentials.get('account') or ''))}.fakturownia.pl"
        return cls(token, base_url, context)

    async def check(self) -> str:
        """Read one invoice; return which account answered. Raises ``ProviderError`` (permanent for a bad token)."""
        await self._list({"period": "all", "per_page": "1"}, "testing the connection")
        return f"Fakturownia at {httpx.URL(self.base_url).host}: the API token was accepted"

    async def changed_invoices(self, cursor: str | None) -> InvoicePage:
        """Return the issued and cost invoices changed since ``cursor`` (``updated_at`` >= it) and the next cursor.

        Both directions are read newest change first, page by page, until a short page or one reaching
        past the cursor. The first pull (no cursor) takes what was issued in the last
        ``first_sync_days``. The invoice changed at the cursor's instant comes again next time:
        at least once, never lost to a tie.
        """
        since = _parse_cursor(cursor)
        query = {"order": "updated_at.desc", "per_page": str(PER_PAGE), "period": "all"}
        if since is None:
            today = self._context.clock().date()
            start = today - timedelta(days=self._context.first_sync_days)
            # A day of slack at the end: Fakturownia dates are the account's (Polish) dates, ours are UTC.
            until = today + timedelta(days=1)
            query |= {"period": "more", "date_from": start.isoformat(), "date_to": until.isoformat()}
            newest = datetime.combine(start, time.min, UTC)  # the next cursor if nothing at all is found
        else:
            newest = since
        found: dict[str, SourceInvoice] = {}
        for income, what in (("yes", "issued invoices"), ("no", "cost invoices")):
            for page in range(1, MAX_PAGES + 1):
                items = await self._list({**query, "income": income, "page": str(page)}, f"listing {what}")
                reached_cursor = False
                for item in items:
                    moment = parse_moment(item.get("updated_at"))
                    if since is not None and moment is not None and moment < since:
                        reached_cursor = True
                        continue
                    if moment is not None and moment > newest:
                        newest = moment
                    invoice = to_source_invoice(item)
                    # A change during paging moves a document to the front and may show it twice: keep one.
                    if invoice is not None and invoice.invoice.id not in found:
                        found[invoice.invoice.id] = invoice
                if len(items) < PER_PAGE or reached_cursor:
                    break
            else:
                raise ProviderError(f"{NAME}: listing {what}: still more after {MAX_PAGES} pages; stopped")
        return InvoicePage(list(found.values()), newest.isoformat())

    async def invoice_by_number(self, number: str) -> SourceInvoice | None:
        """Return the invoice numbered exactly ``number`` (the list filter may match more loosely), or None."""
        wanted = number.strip()
        items = await self._list(
            {"number": wanted, "period": "all", "per_page": str(PER_PAGE)}, f"looking up invoice {wanted}"
        )
        for item in items:
            if str(item.get("number") or "").strip() == wanted and (found := to_source_invoice(item)):
                return found
        return None

    async def fetch_pdf(self, document: DocumentRef) -> bytes:
        """Return the invoice's PDF (``GET /invoices/{id}.pdf``); an unknown id is a permanent ``ProviderError``."""
        doing = f"invoice {document.number}: downloading its PDF"
        path = f"/invoices/{_path_id(document.external_id, doing)}.pdf"
        response = await self._send("GET", path, headers={"Accept": "application/pdf"})
        if not response.is_success:
            self._raise_for(response, doing)
        return require_pdf(NAME, response.content, doing)

    async def register_payment(
        self, document: DocumentRef, payment: PaymentEntry, *, maybe_done: bool
    ) -> PaymentResult:
        """Add ``payment`` to the invoice as a Fakturownia payment; return its id and the invoice's paid total.

        With ``maybe_done`` the invoice's connected payments are read first, and one carrying
        ``payment.key`` is returned (``already=True``) instead of adding a second.
        """
        if maybe_done:
            current = await self._with_payments(document)
            if existing := _payment_with_key(current, payment.key):
                return PaymentResult(str(existing.get("id") or ""), _paid(current), already=True)
        body = {"banking_payment": payment_body(document.external_id, document.number, payment)}
        doing = f"invoice {document.number}: registering payment {payment.key}"
        created = self._checked(await self._send("POST", "/banking/payments.json", body=body, idempotent=False), doing)
        payment_id = str(created.get("id") or "") if isinstance(created, dict) else ""
        if not payment_id:
            raise ProviderError(f"{NAME}: {doing}: the answer names no payment id")
        return PaymentResult(payment_id, await self._paid_total(document))

    async def remove_payment(
        self, document: DocumentRef, payment: PaymentEntry, *, provider_id: str, maybe_done: bool
    ) -> PaymentResult:
        """Delete the payment ``provider_id`` (found by ``payment.key`` when empty); a payment that is gone
        already is ``already=True``. Deleting is idempotent, so ``maybe_done`` changes nothing."""
        payment_id = provider_id
        if not payment_id:
            current = await self._with_payments(document)
            existing = _payment_with_key(current, payment.key)
            if existing is None:
                return PaymentResult("", _paid(current), already=True)
            payment_id = str(existing.get("id") or "")
        doing = f"invoice {document.number}: removing payment {payment.key}"
        response = await self._send("DELETE", f"/banking/payments/{_path_id(payment_id, doing)}.json")
        if response.status_code == 404:
            return PaymentResult(payment_id, await self._paid_total(document), already=True)
        if not response.is_success:
            self._raise_for(response, doing)
        return PaymentResult(payment_id, await self._paid_total(document))

    async def final_from_proforma(self, proforma: DocumentRef, external_key: str, *, maybe_done: bool) -> SourceInvoice:
        """Copy the proforma into a VAT invoice marked paid, ``oid`` = ``external_key``; return it.

        With ``maybe_done`` a document with that oid is looked for first. Raises a permanent
        ``ProviderError`` when the document is not a proforma or Fakturownia refuses the invoice.
        """
        doing = f"final invoice of proforma {proforma.number}"
        if maybe_done and (found := await self._by_oid(external_key, doing)):
            return _mapped(found, doing)
        path = f"/invoices/{_path_id(proforma.external_id, doing)}.json"
        source = self._checked(await self._send("GET", path), f"proforma {proforma.number}")
        kind = str(source.get("kind") or "") if isinstance(source, dict) else ""
        if kind != "proforma":
            raise ProviderError(f"{NAME}: {proforma.number} is not a proforma (kind {kind!r})", permanent=True)
        today = self._context.clock().astimezone(ACCOUNT_ZONE).date().isoformat()  # the date on the document
        invoice = {
            "copy_invoice_from": wire_id(proforma.external_id),
            "from_invoice_id": wire_id(proforma.external_id),  # the README's link "VAT invoice made from a proforma"
            "kind": "vat",
            "oid": external_key,
            "issue_date": today,
            "status": "paid",
            "paid": decimal_text(amount(source.get("price_gross"))),
            "paid_date": today,
        }
        created, _ = await self._create(invoice, external_key, doing)
        return _mapped(created, doing)

    async def issue_invoice(self, order: InvoiceOrder, *, maybe_done: bool) -> SourceInvoice:
        """Issue a VAT invoice for ``order`` (buyer inline, ``oid`` = its key) and return it; e-mail it to the
        buyer when ``order.send_email`` and the buyer has an address.

        With ``maybe_done`` a document with that oid is looked for first. Raises a permanent
        ``ProviderError`` with Fakturownia's reason when it refuses the invoice.
        """
        doing = f"issuing the invoice of {order.external_key}"
        found = await self._by_oid(order.external_key, doing) if maybe_done else None
        if found is None:
            found, existed = await self._create(invoice_body(order), order.external_key, doing)
        else:
            existed = True
        # An earlier attempt that made the document timed out before it could e-mail it (it e-mails only after a
        # clean answer), so e-mail it now - unless Fakturownia shows it sent already (assumed: status "sent").
        if order.send_email and order.buyer.email and not (existed and found.get("status") == "sent"):
            await self._send_email(found, doing)
        return _mapped(found, doing)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    # --- lookups and writes ----------------------------------------------------------------------------------

    async def _list(self, params: Mapping[str, str], doing: str) -> list[dict[str, Any]]:
        body = self._checked(await self._send("GET", "/invoices.json", params=params), doing)
        if not isinstance(body, list):
            raise ProviderError(f"{NAME}: {doing}: expected a list of invoices")
        return [item for item in body if isinstance(item, dict)]

    async def _with_payments(self, document: DocumentRef) -> dict[str, Any]:
        """Return the invoice with its ``connected_payments``; raises a permanent ``ProviderError`` when it is gone."""
        doing = f"invoice {document.number}"
        path = f"/invoices/{_path_id(document.external_id, doing)}.json"
        params = {"additional_fields[invoice]": "connected_payments"}
        body = self._checked(await self._send("GET", path, params=params), doing)
        if not isinstance(body, dict):
            raise ProviderError(f"{NAME}: {doing}: expected an invoice")
        return body

    async def _paid_total(self, document: DocumentRef) -> Decimal | None:
        """Return the invoice's paid total after a change, None when it cannot be read right now.

        The change is done by then; failing the whole operation over a read would only make the queue redo it.
        """
        try:
            return _paid(await self._with_payments(document))
        except ProviderError as exc:
            log.info("%s: invoice %s: paid total unknown after the change (%s)", NAME, document.number, exc)
            return None

    async def _by_oid(self, key: str, doing: str) -> dict[str, Any] | None:
        """Return the document whose ``oid`` is ``key`` among the newest of the last 30 days, or None."""
        query = {"period": "last_30_days", "order": "updated_at.desc", "per_page": str(PER_PAGE)}
        for page in range(1, OID_SCAN_PAGES + 1):
            items = await self._list({**query, "page": str(page)}, f"{doing}: looking for an earlier attempt")
            for item in items:
                if str(item.get("oid") or "") == key:
                    return item
            if len(items) < PER_PAGE:
                break
        return None

    async def _create(self, invoice: dict[str, Any], key: str, doing: str) -> tuple[dict[str, Any], bool]:
        """POST the invoice once; return (the document, whether it existed already).

        A refusal (422) is checked against the oid: Fakturownia refuses a duplicate oid under
        ``oid_unique=yes``, and then the document an earlier attempt made is the answer.
        """
        body = {"oid_unique": "yes", "invoice": invoice}
        response = await self._send("POST", "/invoices.json", body=body, idempotent=False)
        if response.status_code == 422 and (existing := await self._by_oid(key, doing)):
            log.info("%s: %s: the document exists already (oid refused as a duplicate)", NAME, doing)
            return existing, True
        created = self._checked(response, doing)
        if not isinstance(created, dict):
            raise ProviderError(f"{NAME}: {doing}: expected the new invoice in the answer")
        return created, False

    async def _send_email(self, document: Mapping[str, Any], doing: str) -> None:
        """Ask Fakturownia to e-mail the invoice to its buyer (``send_by_email``, per the README).

        Not fatal: the invoice is issued, and failing here would make the queue issue nothing new but
        e-mail nothing either; the log says what happened.
        """
        number = str(document.get("number") or document.get("id"))
        try:
            path = f"/invoices/{_path_id(str(document.get('id') or ''), doing)}/send_by_email.json"
            response = await self._send("POST", path, idempotent=False)
            if not response.is_success:
                self._raise_for(response, f"e-mailing invoice {number}")
        except ProviderError as exc:
            log.warning("%s: invoice %s was issued but not e-mailed: %s", NAME, number, exc)

    # --- HTTP and errors -----------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with the token where the README puts it: in the JSON body when there is one, else in the query."""
        if body is None:
            return await self._http.request(
                method, path, params={**(params or {}), "api_token": self._token}, idempotent=idempotent,
                headers=headers,
            )  # fmt: skip
        return await self._http.request(
            method, path, params=params, json={"api_token": self._token, **body}, idempotent=idempotent
        )

    def _checked(self, response: httpx.Response, doing: str) -> Any:
        """Return the JSON body of a 2xx response; raise the matching ``ProviderError`` otherwise."""
        if response.is_success:
            return response_json(response, NAME)
        self._raise_for(response, doing)

    def _raise_for(self, response: httpx.Response, doing: str) -> NoReturn:
        status = response.status_code
        if status == 401:
            raise ProviderError(
                f"{NAME}: the API token was refused; copy it again from Settings > Account settings > "
                f"Integration and {SETUP}",
                permanent=True,
                status=status,
            )
        detail = self._scrub(error_text(response))
        if status == 404:
            raise ProviderError(f"{NAME}: {doing}: not found", permanent=True, status=status)
        text = detail or f"HTTP {status}"
        raise ProviderError(f"{NAME}: {doing}: {text}", permanent=400 <= status < 500, status=status)

    def _scrub(self, text: str) -> str:
        """Return ``text`` with the token blanked out, should Fakturownia ever echo it."""
        return text.replace(self._token, "***") if self._token else text


def _account(given: str) -> str:
    """Return the account's subdomain from ``acme``, ``acme.fakturownia.pl`` or ``https://acme.fakturownia.pl/``;
    raises a permanent ``ProviderError`` when nothing usable is there."""
    text = given.strip().lower().removeprefix("https://").removeprefix("http://").split("/")[0]
    text = text.removesuffix(".fakturownia.pl")
    if not text:
        raise ProviderError(f"{NAME}: credential 'account' is missing; {SETUP}", permanent=True)
    if not _ACCOUNT.fullmatch(text):
        raise ProviderError(
            f"{NAME}: account {given.strip()[:60]!r} is not a Fakturownia subdomain (the NAME in "
            "https://NAME.fakturownia.pl)",
            permanent=True,
        )
    return text


def _parse_cursor(cursor: str | None) -> datetime | None:
    if not cursor:
        return None
    moment = parse_moment(cursor)
    if moment is None:
        raise ProviderError(f"{NAME}: the sync cursor {cursor[:40]!r} is not a timestamp", permanent=True)
    return moment


def _path_id(external_id: str, doing: str) -> str:
    """Return a Fakturownia id fit for a URL path (digits only); raises a permanent ``ProviderError`` otherwise."""
    if not external_id.isdigit():
        raise ProviderError(f"{NAME}: {doing}: {external_id[:40]!r} is not a Fakturownia id", permanent=True)
    return external_id


def _payment_with_key(invoice: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    payments = invoice.get("connected_payments")
    for item in payments if isinstance(payments, list) else ():
        if isinstance(item, dict) and carries_key(item, key):
            return item
    return None


def _paid(invoice: Mapping[str, Any]) -> Decimal:
    """Return the invoice's paid total, signed like its gross (negative for a correction)."""
    mapped = to_source_invoice(invoice)
    return mapped.invoice.paid if mapped else amount(invoice.get("paid"))


def _mapped(document: Mapping[str, Any], doing: str) -> SourceInvoice:
    found = to_source_invoice(document)
    if found is None:
        raise ProviderError(f"{NAME}: {doing}: Fakturownia answered with a {document.get('kind')!r} document")
    return found
