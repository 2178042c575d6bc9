"""A stateful fake of Billingo API v3 (``.app`` serves it under ``/v3``), speaking the wire format of
Billingo's OpenAPI 3.0.14: documents, document blocks, partners, payment histories.

Use it from any test: seed documents with ``seed_invoice``/``seed_proforma``, read ``documents``,
``payments``, ``partners``, ``sent`` and every request in ``requests``; make trouble with
``fail_next``, ``rate_limit_next``, ``stall_next_create`` and ``pdf_not_ready`` (the download answers 202,
"not generated yet", as the spec documents). Amounts are Decimals both in the
state and on the wire (JSON numbers written digit for digit).

Assumptions where the spec is silent: a 404 answers ``{"error": {"message"}}``; ``last_modified_date``
keeps documents modified at or after it; a proforma gives one final invoice (a second is a 422);
``paid: true`` on create records one payment of the gross; ``vendor_id`` is not echoed in a Document.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.pdf import pdf_with_text

PREFIX = "/v3"
API_KEY = "bk-test-5f1c0e7a9d2b4c6e8f0a1b3c5d7e9f21"
CREATE_PATHS = ("/documents", "/create-from-proforma")
INSERT_TYPES = frozenset({"advance", "draft", "invoice", "proforma"})
METHODS = frozenset({"wire_transfer", "cash", "bankcard", "paypal", "elore_utalas", "online_bankcard", "other"})
LANGUAGES = frozenset({"de", "en", "fr", "hr", "hu", "it", "ro", "sk", "us"})
VATS = {f"{n}%": Decimal(n) for n in range(28)} | {
    "5,5%": Decimal("5.5"),
    "7,7%": Decimal("7.7"),
    "9,5%": Decimal("9.5"),
}
NUMBER_PREFIX = {"invoice": "INV", "proforma": "PRO", "advance": "ADV", "cancellation": "STO"}
CENT = Decimal("0.01")
BODY = web.RequestKey[Any]("body")  # the parsed JSON body, read once by the middleware


@dataclass
class Recorded:
    method: str
    path: str  # without /v3
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, fractions as Decimal
    status: int = 0


def _dumps(value: Any) -> str:
    def encode(item: Any) -> Any:
        if isinstance(item, Decimal):
            return orjson.Fragment(format(item, "f").encode())
        raise TypeError(type(item).__name__)

    return orjson.dumps(value, default=encode).decode()


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=_dumps)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return _json({"error": {"message": message}}, status, headers)


def _invalid(errors: list[tuple[str, str]]) -> web.Response:
    body = {"message": "The given data was invalid.", "errors": [{"field": f, "message": m} for f, m in errors]}
    return _json(body, 422)


@dataclass
class FakeBillingo:
    """The fake server's state and knobs; ``clock`` dates new documents, payments and modifications."""

    api_key: str = API_KEY
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    tax_code: str = "12345678-2-42"
    rate_limit: int = 300
    documents: dict[int, dict[str, Any]] = field(default_factory=dict)
    payments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    partners: dict[int, dict[str, Any]] = field(default_factory=dict)
    blocks: list[dict[str, Any]] = field(
        default_factory=lambda: [{"id": 9101, "name": "Számlák", "prefix": "INV", "type": "invoice"}]
    )
    modified: dict[int, datetime] = field(default_factory=dict)
    vendor_ids: dict[str, int] = field(default_factory=dict)
    sent: list[tuple[int, list[str]]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(50001)
        self._numbers: dict[str, itertools.count[int]] = {}
        self._failures: list[list[Any]] = []
        self._rate_limits: list[float] = []
        self._stalls: list[float] = []
        self._pdf_pending: dict[int, int] = {}  # document id -> how many more downloads answer 202
        self._remaining = self.rate_limit
        self.app = web.Application(middlewares=[self._middleware])
        r = self.app.router
        r.add_get(f"{PREFIX}/organization", self._organization)
        r.add_get(f"{PREFIX}/document-blocks", self._blocks)
        r.add_get(f"{PREFIX}/documents", self._list_documents)
        r.add_post(f"{PREFIX}/documents", self._create_document)
        r.add_get(f"{PREFIX}/documents/vendor/{{vendor_id}}", self._by_vendor)
        r.add_get(f"{PREFIX}/documents/{{id:\\d+}}", self._document)
        r.add_post(f"{PREFIX}/documents/{{id:\\d+}}/create-from-proforma", self._from_proforma)
        r.add_post(f"{PREFIX}/documents/{{id:\\d+}}/send", self._send)
        r.add_get(f"{PREFIX}/documents/{{id:\\d+}}/download", self._download)
        r.add_get(f"{PREFIX}/documents/{{id:\\d+}}/payments", self._get_payments)
        r.add_put(f"{PREFIX}/documents/{{id:\\d+}}/payments", self._put_payments)
        r.add_delete(f"{PREFIX}/documents/{{id:\\d+}}/payments", self._delete_payments)
        r.add_get(f"{PREFIX}/partners", self._list_partners)
        r.add_post(f"{PREFIX}/partners", self._create_partner)

    # --- seeding and reading -------------------------------------------------------------------------------

    def seed_invoice(self, gross: Decimal | str = "12700", **fields: Any) -> dict[str, Any]:
        """Add an issued invoice (see ``seed_document``) and return it."""
        return self.seed_document("invoice", gross, **fields)

    def seed_proforma(self, gross: Decimal | str = "12700", **fields: Any) -> dict[str, Any]:
        return self.seed_document("proforma", gross, **fields)

    def seed_document(
        self,
        doc_type: str,
        gross: Decimal | str,
        *,
        number: str = "",
        currency: str = "HUF",
        payments: list[dict[str, Any]] | None = None,
        payment_status: str = "",
        cancelled: bool = False,
        partner: dict[str, Any] | None = None,
        modified: datetime | None = None,
        invoice_date: date | None = None,
        due_date: date | None = None,
        order_number: str = "",
        vendor_id: str = "",
    ) -> dict[str, Any]:
        """Add a document; ``payments`` (PaymentHistory dicts) set its ``payment_status`` unless one is given."""
        partner = partner or {
            "id": 7001, "name": "Kovács Kft.", "emails": ["szamla@kovacs.example"], "taxcode": "12345678-2-42",
            "iban": "HU42117730161111101800000000", "tax_type": "HAS_TAX_NUMBER",
            "address": {"country_code": "HU", "post_code": "1051", "city": "Budapest", "address": "Nádor u. 1."},
        }  # fmt: skip
        document = self._new_document(doc_type, Decimal(gross), currency, partner, number=number)
        document.update(cancelled=cancelled, settings={"order_number": order_number})
        if invoice_date:
            document["invoice_date"] = invoice_date.isoformat()
        if due_date:
            document["due_date"] = due_date.isoformat()
        self.payments[document["id"]] = [dict(p) for p in payments or ()]
        self._refresh_status(document["id"])
        if payment_status:
            document["payment_status"] = payment_status
        if vendor_id:
            self.vendor_ids[vendor_id] = document["id"]
        self.modified[document["id"]] = modified or self.clock()
        return document

    def by_vendor_id(self, vendor_id: str) -> dict[str, Any] | None:
        found = self.vendor_ids.get(vendor_id)
        return None if found is None else self.documents[found]

    def calls(self, method: str, path: str) -> list[Recorded]:
        """Return the recorded requests of ``method`` on exactly ``path`` (without /v3)."""
        return [r for r in self.requests if r.method == method and r.path == path]

    # --- knobs ---------------------------------------------------------------------------------------------

    def fail_next(self, status: int = 503, times: int = 1, path: str = "", body: Any = None) -> None:
        """Answer the next ``times`` requests whose path contains ``path`` with ``status`` (and ``body``)."""
        self._failures.append([path, status, times, body])

    def rate_limit_next(self, times: int = 1, retry_after: float = 3) -> None:
        """Answer the next ``times`` requests with 429 and ``Retry-After: retry_after``."""
        self._rate_limits.extend([retry_after] * times)

    def stall_next_create(self, seconds: float) -> None:
        """Perform the next create (document, final invoice), then answer only after ``seconds``."""
        self._stalls.append(seconds)

    def pdf_not_ready(self, document_id: int, times: int = 1) -> None:
        """Answer the next ``times`` downloads of the document's PDF with 202 ("not generated yet")."""
        self._pdf_pending[document_id] = times

    # --- plumbing ------------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw, parse_float=Decimal) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        request[BODY] = body
        recorded = Recorded(
            request.method, request.path.removeprefix(PREFIX), dict(request.query), dict(request.headers), body
        )
        self.requests.append(recorded)
        response = await self._dispatch(request, recorded.path, handler)
        self._remaining = max(self._remaining - 1, 0)
        response.headers["X-RateLimit-Limit"] = str(self.rate_limit)
        response.headers["X-RateLimit-Remaining"] = str(self._remaining)
        response.headers["X-RateLimit-Reset"] = str(int(self.clock().timestamp()) + 60)
        recorded.status = response.status
        return response

    async def _dispatch(
        self, request: web.Request, path: str, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if self._rate_limits:
            wait = self._rate_limits.pop(0)
            return _error(429, "Too many requests", headers={"Retry-After": f"{wait:g}"})
        for failure in self._failures:
            if failure[0] in path and failure[2] > 0:
                failure[2] -= 1
                if failure[3] is not None:
                    return _json(failure[3], failure[1])
                return _json({"error": {"message": "Internal Server Error.", "trace_id": "0f3a"}}, failure[1])
        if request.headers.get("X-API-KEY") != self.api_key:
            return _error(401, "Authorization information (Header: X-API-KEY) is missing or invalid.")
        response: web.StreamResponse = await handler(request)
        return response

    def _new_document(
        self, doc_type: str, gross: Decimal, currency: str, partner: dict[str, Any], *, number: str = ""
    ) -> dict[str, Any]:
        document_id = next(self._ids)
        today = self.clock().date()
        prefix = NUMBER_PREFIX.get(doc_type, "DOC")
        sequence = self._numbers.setdefault(prefix, itertools.count(1))
        document: dict[str, Any] = {
            "id": document_id,
            "invoice_number": number or f"{prefix}-{today.year}-{next(sequence):06d}",
            "type": doc_type, "cancelled": False, "block_id": self.blocks[0]["id"],
            "payment_status": "outstanding", "payment_method": "wire_transfer",
            "gross_total": gross, "currency": currency, "conversion_rate": 1,
            "invoice_date": today.isoformat(), "fulfillment_date": today.isoformat(), "due_date": today.isoformat(),
            "paid_date": None, "partner": partner, "document_partner": partner, "electronic": False, "comment": "",
            "notification_status": "none", "language": "hu", "items": [], "settings": {}, "related_documents": [],
        }  # fmt: skip
        self.documents[document_id] = document
        self.payments[document_id] = []
        self.modified[document_id] = self.clock()
        return document

    def _refresh_status(self, document_id: int) -> None:
        document, history = self.documents[document_id], self.payments[document_id]
        paid = sum((Decimal(str(p["price"])) for p in history), Decimal(0))
        gross = abs(Decimal(str(document["gross_total"])))
        status = "outstanding" if paid == 0 else "paid" if paid >= gross else "partially_paid"
        document["payment_status"] = status
        document["paid_date"] = max(str(p["date"]) for p in history) if status == "paid" else None
        self.modified[document_id] = self.clock()

    async def _maybe_stall(self) -> None:
        if self._stalls:
            await asyncio.sleep(self._stalls.pop(0))

    def _found(self, request: web.Request) -> dict[str, Any] | None:
        return self.documents.get(int(request.match_info["id"]))

    @staticmethod
    def _page(items: list[Any], request: web.Request) -> web.Response:
        try:
            page = int(request.query.get("page", "1"))
            per_page = int(request.query.get("per_page", "25"))
        except ValueError:
            return _invalid([("page", "The page must be an integer.")])
        if not 1 <= per_page <= 100:
            return _invalid([("per_page", "The per page must be between 1 and 100.")])
        last = max((len(items) + per_page - 1) // per_page, 1)
        return _json({
            "data": items[(page - 1) * per_page : page * per_page], "total": len(items), "per_page": per_page,
            "current_page": page, "last_page": last,
            "prev_page_url": f"{request.path}?page={page - 1}" if page > 1 else None,
            "next_page_url": f"{request.path}?page={page + 1}" if page < last else None,
        })  # fmt: skip

    # --- handlers ------------------------------------------------------------------------------------------

    async def _organization(self, request: web.Request) -> web.Response:
        return _json({"tax_code": self.tax_code, "subscription": {"expiration_date": "2030-12-31", "features": []}})

    async def _blocks(self, request: web.Request) -> web.Response:
        wanted = request.query.get("type")
        return self._page([b for b in self.blocks if not wanted or b["type"] == wanted], request)

    async def _list_documents(self, request: web.Request) -> web.Response:
        found = sorted(self.documents.values(), key=lambda d: -int(d["id"]))  # newest first, as Billingo sorts
        if since := request.query.get("last_modified_date"):
            moment = datetime.fromisoformat(since).replace(tzinfo=UTC)
            found = [d for d in found if self.modified[d["id"]] >= moment]
        if text := request.query.get("query", "").lower():
            found = [d for d in found if text in d["invoice_number"].lower() or text in d["partner"]["name"].lower()]
        if doc_type := request.query.get("type"):
            found = [d for d in found if d["type"] == doc_type]
        return self._page(found, request)

    async def _document(self, request: web.Request) -> web.Response:
        found = self._found(request)
        return _json(found) if found else _error(404, "Document not found.")

    async def _by_vendor(self, request: web.Request) -> web.Response:
        found = self.by_vendor_id(request.match_info["vendor_id"])
        return _json(found) if found else _error(404, "Document not found.")

    async def _create_document(self, request: web.Request) -> web.Response:
        body = request[BODY] if isinstance(request[BODY], dict) else {}
        required = ("partner_id", "block_id", "type", "fulfillment_date", "due_date", "payment_method", "language")
        errors = [(name, f"The {name} field is required.") for name in (*required, "currency") if not body.get(name)]
        if body.get("type") and body["type"] not in INSERT_TYPES:
            errors.append(("type", "The selected type is invalid."))
        if body.get("partner_id") and body["partner_id"] not in self.partners:
            errors.append(("partner_id", "The selected partner id is invalid."))
        if body.get("block_id") and body["block_id"] not in {b["id"] for b in self.blocks}:
            errors.append(("block_id", "The selected block id is invalid."))
        if body.get("payment_method") and body["payment_method"] not in METHODS:
            errors.append(("payment_method", "The selected payment method is invalid."))
        if body.get("language") and body["language"] not in LANGUAGES:
            errors.append(("language", "The selected language is invalid."))
        gross = Decimal(0)
        for n, item in enumerate(body.get("items") or ()):
            missing = [k for k in ("name", "unit_price", "unit_price_type", "quantity", "unit", "vat") if k not in item]
            if missing or item["vat"] not in VATS or item["unit_price_type"] not in ("gross", "net"):
                errors.append((f"items.{n}", f"The item is invalid ({', '.join(missing) or item['vat']})."))
                continue
            line = Decimal(str(item["unit_price"])) * Decimal(str(item["quantity"]))
            gross += line if item["unit_price_type"] == "gross" else line * (1 + VATS[item["vat"]] / 100)
        if errors:
            return _invalid(errors)
        partner = dict(self.partners[body["partner_id"]])
        document = self._new_document(body["type"], gross.quantize(CENT), body["currency"], partner)
        for name in ("fulfillment_date", "due_date", "payment_method", "language", "electronic", "comment"):
            if name in body:
                document[name] = body[name]
        document["items"] = body.get("items") or []
        if body.get("vendor_id"):
            self.vendor_ids[body["vendor_id"]] = document["id"]
        if body.get("paid"):
            entry = {
                "date": self.clock().date().isoformat(),
                "price": document["gross_total"],
                "payment_method": body["payment_method"],
                "voucher_number": None,
                "conversion_rate": 1,
            }
            self.payments[document["id"]] = [entry]
            self._refresh_status(document["id"])
        await self._maybe_stall()
        return _json(document, 201)

    async def _from_proforma(self, request: web.Request) -> web.Response:
        proforma = self._found(request)
        if proforma is None:
            return _error(404, "Document not found.")
        if proforma["type"] != "proforma":
            return _invalid([("id", "The document is not a proforma.")])
        related = [self.documents[r["id"]] for r in proforma["related_documents"]]
        if any(d["type"] == "invoice" and not d["cancelled"] for d in related):
            return _invalid([("id", "An invoice has already been made from this proforma.")])
        final = self._new_document("invoice", proforma["gross_total"], proforma["currency"], proforma["partner"])
        for name in ("payment_method", "language", "items", "electronic", "settings"):
            final[name] = proforma[name]
        final["related_documents"] = [{"id": proforma["id"], "invoice_number": proforma["invoice_number"]}]
        proforma["related_documents"].append({"id": final["id"], "invoice_number": final["invoice_number"]})
        self.modified[proforma["id"]] = self.clock()
        await self._maybe_stall()
        return _json(final, 201)

    async def _send(self, request: web.Request) -> web.Response:
        document = self._found(request)
        if document is None:
            return _error(404, "Document not found.")
        emails = (request[BODY] or {}).get("emails") or []
        self.sent.append((document["id"], list(emails)))
        return _json({"emails": emails})

    async def _get_payments(self, request: web.Request) -> web.Response:
        document = self._found(request)
        return _json(self.payments[document["id"]]) if document else _error(404, "Document not found.")

    async def _put_payments(self, request: web.Request) -> web.Response:
        document = self._found(request)
        if document is None:
            return _error(404, "Document not found.")
        history = request[BODY]
        if not isinstance(history, list):
            return _invalid([("payments", "An array of payments is required.")])
        for n, entry in enumerate(history):
            if not all(entry.get(k) is not None for k in ("date", "price", "payment_method")):
                return _invalid([(f"{n}", "date, price and payment_method are required.")])
            if entry["payment_method"] not in METHODS:
                return _invalid([(f"{n}.payment_method", "The selected payment method is invalid.")])
        self.payments[document["id"]] = [dict(e) for e in history]
        self._refresh_status(document["id"])
        return _json(self.payments[document["id"]])

    async def _delete_payments(self, request: web.Request) -> web.Response:
        document = self._found(request)
        if document is None:
            return _error(404, "Document not found.")
        self.payments[document["id"]] = []
        self._refresh_status(document["id"])
        return _json([])

    async def _download(self, request: web.Request) -> web.Response:
        found = self._found(request)
        if found is None:
            return _error(404, "Document not found.")
        if self._pdf_pending.get(found["id"], 0) > 0:
            self._pdf_pending[found["id"]] -= 1
            return _json({"message": "Document PDF has not generated yet."}, 202)
        return web.Response(body=pdf_with_text(f"Billingo invoice {found['invoice_number']}"),
                            content_type="application/pdf")  # fmt: skip

    async def _list_partners(self, request: web.Request) -> web.Response:
        text = request.query.get("query", "").lower()
        found = [p for p in reversed(self.partners.values()) if text in f"{p['name']} {p.get('taxcode', '')}".lower()]
        return self._page(found, request)

    async def _create_partner(self, request: web.Request) -> web.Response:
        body = request[BODY] if isinstance(request[BODY], dict) else {}
        address = body.get("address") or {}
        parts = ("country_code", "post_code", "city", "address")
        errors = [(f"address.{k}", f"The address.{k} field is required.") for k in parts if not address.get(k)]
        if not body.get("name"):
            errors.append(("name", "The name field is required."))
        if body.get("tax_type", "") not in ("", "FOREIGN", "HAS_TAX_NUMBER", "NO_TAX_NUMBER"):
            errors.append(("tax_type", "The selected tax type is invalid."))
        if errors:
            return _invalid(errors)
        partner = {**body, "id": next(self._ids)}
        self.partners[partner["id"]] = partner
        return _json(partner, 201)
