"""A fake Fakturownia API speaking its JSON wire protocol, for tests.

Serve ``FakeFakturownia(...).app`` with ``tests.fakes.server.serve`` and give the source
``fake.credentials(url)`` (the token and ``base_url``). The fake keeps documents and payments,
records every request (``requests``), serves each invoice's PDF (``/invoices/<id>.pdf``), and has
knobs: ``add_invoice`` / ``add_proforma`` to seed, ``touch`` to mark a document changed, ``fail_next``,
``rate_limit_next`` and ``stall_next_create`` (create, then answer late) to inject trouble.

Where the README is silent the fake picks the plausible behaviour (each marked "assumed"):
errors are ``{"code": "error", "message": text | {field: [problems]}}``, a list without
``period`` shows this month, ``number=`` matches loosely (a substring), ``per_page`` defaults
to 25, a deleted payment answers 204.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from tests.fakes.clock import FakeClock
from tests.fakes.pdf import pdf_with_text

WARSAW = ZoneInfo("Europe/Warsaw")
CENT = Decimal("0.01")
KINDS = frozenset({"vat", "proforma", "bill", "receipt", "advance", "final", "correction", "estimate", "kp", "kw"})
LANGS = frozenset("pl en en-GB de fr cz ru es it nl hr ar sk sl el et cn hu tr fa".split())
_dumps = partial(json.dumps, default=str, ensure_ascii=False)


@dataclass
class Recorded:
    """One request the fake received; ``api_token`` is where it carried one (query or JSON body), else ""."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, decimals as Decimal
    api_token: str
    status: int = 0


def _error(status: int, message: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"code": "error", "message": message}, status=status, headers=headers, dumps=_dumps)


async def _body(request: web.Request) -> Any:
    """Return the request's JSON body with decimals as Decimal (aiohttp keeps the bytes, so handlers may re-read)."""
    raw = await request.read()
    try:
        return json.loads(raw, parse_float=Decimal) if raw else None
    except ValueError:
        return None


def _money(value: Any) -> Decimal:
    return Decimal(str(value).replace(",", ".")).quantize(CENT)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(WARSAW).isoformat(timespec="milliseconds")


class FakeFakturownia:
    """In-memory Fakturownia account: invoices (income and cost), payments, e-mails sent."""

    def __init__(
        self, *, api_token: str = "fake-fakturownia-token", clock: Callable[[], datetime] | None = None
    ) -> None:
        self.api_token = api_token
        self.clock = clock or FakeClock(datetime(2026, 5, 11, 9, 0, tzinfo=UTC))
        self.invoices: dict[int, dict[str, Any]] = {}
        self.payments: dict[int, dict[str, Any]] = {}
        self.emailed: list[int] = []  # invoice ids send_by_email was called for
        self.requests: list[Recorded] = []
        self._invoice_ids = itertools.count(100001)
        self._payment_ids = itertools.count(7001)
        self._sequence = itertools.count(1)
        self._failures: list[list[Any]] = []  # [status, times left, path substring]
        self._rate_limits: list[float] = []
        self._stall = 0.0
        self._app = web.Application(middlewares=[self._middleware])
        add = self._app.router.add_route
        add("GET", "/invoices.json", self._list)
        add("POST", "/invoices.json", self._create_invoice)
        add("GET", r"/invoices/{id:\d+}.json", self._show)
        add("GET", r"/invoices/{id:\d+}.pdf", self._pdf)
        add("POST", r"/invoices/{id:\d+}/send_by_email.json", self._send_by_email)
        add("POST", "/banking/payments.json", self._create_payment)
        add("GET", r"/banking/payment/{id:\d+}.json", self._show_payment)  # singular, as the README writes it
        add("DELETE", r"/banking/payments/{id:\d+}.json", self._delete_payment)

    @property
    def app(self) -> web.Application:
        return self._app

    def credentials(self, base_url: str) -> dict[str, str]:
        """Return the credentials a source needs to talk to this fake served at ``base_url`` (which replaces
        the account's address; ``account`` is there because setup asks for it)."""
        return {"api_token": self.api_token, "account": "fake-account", "base_url": base_url}

    # --- seeding and reading -------------------------------------------------------------------------------

    def add_invoice(
        self,
        number: str,
        gross: str | Decimal,
        *,
        kind: str = "vat",
        income: bool = True,
        currency: str = "PLN",
        paid: str | Decimal = "0",
        status: str = "",
        issue_date: date | None = None,
        updated_at: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Store a document as Fakturownia shows it (``fields`` verbatim: buyer_name=…, oid=…, payment_to=…);
        returns it. Amounts become decimal strings; ``status`` follows ``paid`` unless given."""
        moment = updated_at or self.clock()
        doc_id = next(self._invoice_ids)
        doc: dict[str, Any] = {
            "id": doc_id,
            "kind": kind,
            "number": number,
            "income": "1" if income else "0",
            "issue_date": (issue_date or self._today()).isoformat(),
            "price_gross": str(_money(gross)),
            "paid": str(_money(paid)),
            "currency": currency,
            "created_at": _stamp(moment),
            "updated_at": _stamp(moment),
            "oid": "",
            "from_invoice_id": None,
            "positions": [{"name": "Service", "quantity": "1", "total_price_gross": str(_money(gross)), "tax": "23"}],
        }
        doc |= fields
        doc["status"] = status or self._status(doc)
        self.invoices[doc_id] = doc
        return doc

    def add_proforma(self, number: str, gross: str | Decimal, **fields: Any) -> dict[str, Any]:
        return self.add_invoice(number, gross, kind="proforma", **fields)

    def touch(self, invoice_id: int, **changes: Any) -> None:
        """Change a document (``changes`` verbatim) and stamp it as changed now."""
        self.invoices[invoice_id] |= changes | {"updated_at": _stamp(self.clock())}

    def find(self, number: str) -> dict[str, Any] | None:
        return next((d for d in self.invoices.values() if d["number"] == number), None)

    def payments_of(self, invoice_id: int) -> list[dict[str, Any]]:
        return [p for p in self.payments.values() if int(p["invoice_id"]) == invoice_id]

    def count(self, path_substring: str, method: str | None = None) -> int:
        return sum(1 for r in self.requests if path_substring in r.path and method in (None, r.method))

    # --- trouble -------------------------------------------------------------------------------------------

    def fail_next(self, status: int = 503, times: int = 1, path_substring: str = "") -> None:
        """Answer the next ``times`` requests whose path contains ``path_substring`` with ``status`` (no effect)."""
        self._failures.append([status, times, path_substring])

    def rate_limit_next(self, times: int = 1, retry_after: float = 1) -> None:
        """Answer the next ``times`` requests with 429 and ``Retry-After`` (no documented limit; assumed shape)."""
        self._rate_limits.extend([retry_after] * times)

    def stall_next_create(self, seconds: float) -> None:
        """Make the next invoice or payment create happen at once but answer only after ``seconds``."""
        self._stall = seconds

    # --- plumbing ------------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        body = await _body(request)
        token = request.query.get("api_token", "")
        if isinstance(body, dict) and "api_token" in body:
            token = str(body["api_token"])
        recorded = Recorded(request.method, request.path, dict(request.query), dict(request.headers), body, token)
        self.requests.append(recorded)
        response = await self._dispatch(request, token, handler)
        recorded.status = response.status
        return response

    async def _dispatch(
        self, request: web.Request, token: str, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        for failure in self._failures:
            if failure[2] in request.path and failure[1] > 0:
                failure[1] -= 1
                return _error(failure[0], "Internal error" if failure[0] >= 500 else "Refused")
        if self._rate_limits:
            wait = self._rate_limits.pop(0)
            return _error(429, "Too many requests", headers={"Retry-After": f"{wait:g}"})
        if token != self.api_token:
            return _error(401, "You must be logged in to access this page")  # assumed wording
        response: web.StreamResponse = await handler(request)
        return response

    def _today(self) -> date:
        return self.clock().astimezone(WARSAW).date()

    @staticmethod
    def _status(doc: dict[str, Any]) -> str:
        paid, gross = _money(doc["paid"]), abs(_money(doc["price_gross"]))
        return "paid" if paid and paid >= gross else "partial" if paid else "issued"

    def _settle(self, invoice: dict[str, Any], delta: Decimal) -> None:
        invoice["paid"] = str(_money(invoice["paid"]) + delta)
        if invoice["status"] != "rejected":
            invoice["status"] = self._status(invoice)
        invoice["updated_at"] = _stamp(self.clock())

    async def _answer_late(self) -> None:
        stall, self._stall = self._stall, 0.0
        if stall:
            await asyncio.sleep(stall)

    # --- invoices ------------------------------------------------------------------------------------------

    async def _list(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("period", "this_month") not in ("all", "more", "last_30_days", "this_month"):
            return _error(400, f"period {query['period']!r} is not played by the fake")
        income = "0" if query.get("income") == "no" else "1"
        found = [d for d in self.invoices.values() if d["income"] == income and self._in_period(d, query)]
        if number := query.get("number", "").strip().lower():
            found = [d for d in found if number in d["number"].lower()]  # assumed: the app's loose search
        if kind := query.get("kind"):
            found = [d for d in found if d["kind"] == kind]
        field_name, _, direction = query.get("order", "id.desc").partition(".")
        if field_name in ("updated_at", "created_at"):
            found.sort(key=lambda d: (datetime.fromisoformat(d[field_name]), d["id"]), reverse=direction == "desc")
        else:
            found.sort(key=lambda d: (str(d.get(field_name, "")), d["id"]), reverse=direction == "desc")
        per_page = min(int(query.get("per_page", "25")), 100)
        page = int(query.get("page", "1"))
        shown = found[(page - 1) * per_page : page * per_page]
        if query.get("include_positions") != "true":
            shown = [{k: v for k, v in d.items() if k != "positions"} for d in shown]
        return web.json_response(shown, dumps=_dumps)

    def _in_period(self, doc: dict[str, Any], query: Any) -> bool:
        column = {"paid_date": "paid_date", "transaction_date": "sell_date"}.get(query.get("search_date_type"), "")
        when = date.fromisoformat(str(doc.get(column or "issue_date") or "1900-01-01")[:10])
        today, period = self._today(), query.get("period", "this_month")
        if period == "all":
            return True
        if period == "more":
            return date.fromisoformat(query["date_from"]) <= when <= date.fromisoformat(query["date_to"])
        if period == "last_30_days":
            return today - timedelta(days=30) <= when <= today
        return (when.year, when.month) == (today.year, today.month)  # this_month

    async def _show(self, request: web.Request) -> web.Response:
        doc = self.invoices.get(int(request.match_info["id"]))
        if doc is None:
            return _error(404, "Not found")
        shown = dict(doc)
        if "connected_payments" in request.query.get("additional_fields[invoice]", ""):
            shown["connected_payments"] = self.payments_of(doc["id"])
        return web.json_response(shown, dumps=_dumps)

    async def _pdf(self, request: web.Request) -> web.Response:
        doc = self.invoices.get(int(request.match_info["id"]))
        if doc is None:
            return _error(404, "Not found")
        return web.Response(body=pdf_with_text(f"Faktura {doc['number']}"), content_type="application/pdf")

    async def _create_invoice(self, request: web.Request) -> web.Response:
        body = await _body(request)
        body = body if isinstance(body, dict) else {}
        given = body.get("invoice")
        if not isinstance(given, dict):
            return _error(422, {"invoice": ["is missing"]})
        doc: dict[str, Any] = {}
        if "copy_invoice_from" in given:
            source = self.invoices.get(int(given["copy_invoice_from"]))
            if source is None:
                return _error(422, {"copy_invoice_from": ["not found"]})
            keep = ("buyer_", "seller_", "positions", "currency", "lang", "payment_type", "price_", "sell_date")
            doc = {k: v for k, v in source.items() if k.startswith(keep)}
        doc |= {k: v for k, v in given.items() if k != "copy_invoice_from"}
        problems = self._problems(doc, body)
        if problems:
            return _error(422, problems)
        if "positions" in given:
            doc["price_gross"] = str(sum((_money(p["total_price_gross"]) for p in doc["positions"]), Decimal(0)))
        doc["kind"] = kind = doc.get("kind") or "vat"
        doc["income"] = "0" if str(doc.get("income", "1")) in ("0", "false") else "1"
        doc.setdefault("currency", "PLN")
        doc["issue_date"] = str(doc.get("issue_date") or self._today().isoformat())
        doc["id"] = next(self._invoice_ids)
        today = self._today()
        prefix = {"vat": "FV", "proforma": "PRO"}.get(kind, kind.upper())
        doc["number"] = doc.get("number") or f"{prefix} {next(self._sequence)}/{today.month:02d}/{today.year}"
        doc["paid"] = str(_money(doc.get("paid") or (doc["price_gross"] if doc.get("status") == "paid" else 0)))
        doc["status"] = doc.get("status") or self._status(doc)
        doc["created_at"] = doc["updated_at"] = _stamp(self.clock())
        doc.setdefault("oid", "")
        doc.setdefault("from_invoice_id", None)
        self.invoices[doc["id"]] = doc
        await self._answer_late()
        return web.json_response(doc, status=201, dumps=_dumps)

    def _problems(self, doc: dict[str, Any], body: dict[str, Any]) -> dict[str, list[str]]:
        """Return the validation errors of a new document (field -> problems), Rails-style (assumed)."""
        problems: dict[str, list[str]] = {}
        oid = str(doc.get("oid") or "")
        if oid and body.get("oid_unique") == "yes" and any(d.get("oid") == oid for d in self.invoices.values()):
            problems["oid"] = ["has already been taken"]
        if doc.get("kind", "vat") not in KINDS:
            problems["kind"] = ["is not included in the list"]
        if not str(doc.get("buyer_name") or "").strip():
            problems["buyer_name"] = ["can't be blank"]
        if doc.get("lang") and doc["lang"] not in LANGS:
            problems["lang"] = ["is not included in the list"]
        positions = doc.get("positions")
        if not positions or not all(isinstance(p, dict) and p.get("name") for p in positions):
            problems["positions"] = ["can't be blank"]
        return problems

    async def _send_by_email(self, request: web.Request) -> web.Response:
        doc = self.invoices.get(int(request.match_info["id"]))
        if doc is None:
            return _error(404, "Not found")
        self.emailed.append(doc["id"])
        if doc["status"] == "issued":
            self.touch(doc["id"], status="sent")
        return web.json_response({"status": "ok"})  # assumed answer

    # --- payments ------------------------------------------------------------------------------------------

    async def _create_payment(self, request: web.Request) -> web.Response:
        body = await _body(request)
        given = body.get("banking_payment") if isinstance(body, dict) else None
        if not isinstance(given, dict):
            return _error(422, {"banking_payment": ["is missing"]})
        invoice = self.invoices.get(int(given.get("invoice_id") or 0))
        if invoice is None:
            return _error(422, {"invoice_id": ["not found"]})
        try:
            price = _money(given["price"])
        except (KeyError, ArithmeticError, ValueError):
            return _error(422, {"price": ["is not a number"]})
        moment = _stamp(self.clock())
        payment = dict(given) | {"id": next(self._payment_ids), "price": str(price), "created_at": moment}
        payment["updated_at"] = moment
        self.payments[payment["id"]] = payment
        if given.get("paid") in (True, "true", "1"):
            self._settle(invoice, price)
        await self._answer_late()
        return web.json_response(payment, status=201, dumps=_dumps)

    async def _show_payment(self, request: web.Request) -> web.Response:
        payment = self.payments.get(int(request.match_info["id"]))
        return web.json_response(payment, dumps=_dumps) if payment else _error(404, "Not found")

    async def _delete_payment(self, request: web.Request) -> web.Response:
        payment = self.payments.pop(int(request.match_info["id"]), None)
        if payment is None:
            return _error(404, "Not found")
        invoice = self.invoices.get(int(payment["invoice_id"]))
        if invoice is not None and payment.get("paid") in (True, "true", "1"):
            self._settle(invoice, -_money(payment["price"]))
        return web.Response(status=204)
