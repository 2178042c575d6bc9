"""The invoicing webhooks of the admin app, served on a real port: the own system's signed events and
Számlázz.hu's data push (``admin/invoice_webhooks.py``, ``core/invoicing/own_system.py``).

The own system posts to ``/hooks/own/<workspace slug>`` with the header
``X-Reconbot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(webhook secret, "<t>." + body)>``.
An ``invoice.created`` event looks like this (``invoice.updated`` has the same shape; amounts are
decimal strings so that nothing passes through a float)::

    {
      "id": "evt-0001",
      "type": "invoice.created",
      "data": {
        "id": "inv-42",
        "number": "OWN-2026-0042",
        "direction": "issued",
        "kind": "invoice",
        "gross": "12700.50",
        "currency": "HUF",
        "paid": "0",
        "partner": {"name": "Kovács Kft.", "tax_id": "12345678-2-42",
                    "iban": "HU42117730161111101800000000", "email": "szamla@kovacs.example"},
        "issue_date": "2026-03-01",
        "due_date": "2026-03-09"
      }
    }

A ``sale.paid`` event carries in ``data`` a sale as ``reconbot.core.invoicing.sales.parse_sale`` reads it
(id, total, paid, payment_method, tip, customer{name, email, ...}, ...).

Számlázz.hu pushes the ``<szamla xmlns="http://www.szamlazz.hu/szamla">`` document of an invoice to
``/hooks/szamlazz/<workspace slug>/<push token>``.

The server checks signatures against ``sources.clock`` (the fake clock), so every signature here is
made at ``int(clock().timestamp())``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from aiohttp import web
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.admin.app import create_app
from reconbot.admin.invoice_webhooks import _TASKS_KEY
from reconbot.core.domain import AllocationMethod, Direction, InvoiceKind, InvoiceStatus, TransactionStatus
from reconbot.core.invoicing.own_system import SIGNATURE_HEADER, sign
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.invoicing_tables import (
    InvoiceSourceRecord,
    OperationKind,
    OperationStatus,
    SaleRecord,
    SourceOperationRecord,
    WebhookDeliveryRecord,
)
from reconbot.core.persistence.tables import (
    AllocationRecord,
    AuditEventRecord,
    BankTransactionRecord,
    InvoiceRecord,
    InvoicingMode,
    OutboxEventRecord,
)
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.invoicing.sources import InvoiceSources, credentials, save_credentials, update_settings
from reconbot.core.services.invoicing.write_back import OperationView, read_operation
from reconbot.core.services.workspaces import ensure_workspace
from tests.fakes.billingo import FakeBillingo
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.server import free_port, serve
from tests.fakes.szamlazz import FakeSzamlazz, szamla_xml

SLUG = "kert"
GROSS = "12700.50"
R = TypeVar("R")


# --- helpers -------------------------------------------------------------------------------------------------


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The header value as the contract documents it, computed here independently of ``sign``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def invoice_event(event_id: str = "evt-0001", kind: str = "invoice.created", **changes: Any) -> dict[str, Any]:
    """The example event of the module docstring; ``changes`` replace fields of ``data``."""
    data: dict[str, Any] = {
        "id": "inv-42",
        "number": "OWN-2026-0042",
        "direction": "issued",
        "kind": "invoice",
        "gross": GROSS,
        "currency": "HUF",
        "paid": "0",
        "partner": {
            "name": "Kovács Kft.",
            "tax_id": "12345678-2-42",
            "iban": "HU42117730161111101800000000",
            "email": "szamla@kovacs.example",
        },
        "issue_date": "2026-03-01",
        "due_date": "2026-03-09",
    }
    data.update(changes)
    return {"id": event_id, "type": kind, "data": data}


def sale_event(event_id: str, **sale: Any) -> dict[str, Any]:
    return {"id": event_id, "type": "sale.paid", "data": sale}


def encode(event: dict[str, Any] | list[Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def all_rows(engine: Engine, model: type[R]) -> list[R]:
    with Session(engine) as session:
        return list(session.exec(select(model)))


def count(engine: Engine, model: type[Any]) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def only_invoice(engine: Engine) -> InvoiceRecord:
    [invoice] = all_rows(engine, InvoiceRecord)
    return invoice


def sale_operations(engine: Engine) -> list[SourceOperationRecord]:
    with Session(engine) as session:
        query = select(SourceOperationRecord).where(col(SourceOperationRecord.kind) == OperationKind.SALE_INVOICE)
        return list(session.exec(query))


def outbox(engine: Engine, kind: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return [e.payload for e in session.exec(select(OutboxEventRecord).where(col(OutboxEventRecord.kind) == kind))]


async def finished_operation(sources: InvoiceSources, operation_id: int, timeout: float = 5.0) -> OperationView:
    """Wait (really, the background task runs on this loop) until the operation has finished."""
    for _ in range(int(timeout / 0.05)):
        view = read_operation(sources, operation_id)
        if view.finished:
            return view
        await asyncio.sleep(0.05)
    pytest.fail(f"operation {operation_id} did not finish within {timeout} s: {read_operation(sources, operation_id)}")


@dataclass
class Hooks:
    """The served app and a client posting to it, signing with the fake clock's time."""

    client: httpx.AsyncClient
    clock: FakeClock

    @property
    def now(self) -> int:
        return int(self.clock().timestamp())

    async def post(self, path: str, body: bytes, headers: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(path, content=body, headers=headers or {})

    async def event(
        self, secret: str, event: dict[str, Any] | bytes, *, slug: str = SLUG, at: int | None = None
    ) -> httpx.Response:
        body = event if isinstance(event, bytes) else encode(event)
        header = signature(secret, body, self.now if at is None else at)
        return await self.post(f"/hooks/own/{slug}", body, {SIGNATURE_HEADER: header})


# --- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture
async def app(engine: Engine, clock: FakeClock, sleeps: RecordingSleep, sources: InvoiceSources) -> AsyncIterator[str]:
    """Serve the admin app on the test database and the fake clock; yield its URL.

    Before it stops, wait for the invoices it is issuing in the background, so none outlives the database.
    """
    port = free_port()
    feeds = BankFeeds(engine, clock=clock, sleep=sleeps, public_url=f"http://127.0.0.1:{port}")
    application: web.Application = create_app(feeds, sources)
    async with serve(application, port=port) as url:
        yield url
        await asyncio.gather(*application[_TASKS_KEY], return_exceptions=True)


@pytest.fixture
async def hooks(app: str, clock: FakeClock) -> AsyncIterator[Hooks]:
    async with httpx.AsyncClient(base_url=app, timeout=10) as client:
        yield Hooks(client, clock)


@pytest.fixture
def secret(engine: Engine, workspace_id: int) -> str:
    """Set up the own system for the workspace; return the webhook secret reconbot generated."""
    return save_credentials(engine, workspace_id, "own", {}, actor="cli:test")["webhook_secret"]


# --- own system: invoices ------------------------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = encode(invoice_event())
    assert sign("s3cret", body, 1772442000) == signature("s3cret", body, 1772442000)
    assert sign("s3cret", body, 1772442000) != signature("s3cret", body, 1772442001)
    assert sign("s3cret", body, 1772442000) != signature("other", body, 1772442000)


def test_setting_up_the_own_system_generates_a_stored_sealed_secret(engine: Engine, workspace_id: int) -> None:
    first = save_credentials(engine, workspace_id, "own", {}, actor="cli:test")
    secret = first["webhook_secret"]

    assert set(first) == {"webhook_secret"} and len(secret) >= 32
    assert credentials(engine, workspace_id, "own") == {"webhook_secret": secret}
    [record] = all_rows(engine, InvoiceSourceRecord)
    assert record.name == "own" and secret not in record.credentials  # sealed, never stored in the clear
    # Setting it up again makes a new secret.
    assert save_credentials(engine, workspace_id, "own", {}, actor="cli:test")["webhook_secret"] != secret


async def test_invoice_events_store_and_update_the_invoice_and_a_resent_event_changes_nothing(
    engine: Engine, workspace_id: int, secret: str, hooks: Hooks
) -> None:
    created = await hooks.event(secret, invoice_event("evt-0001"))

    invoice = only_invoice(engine)
    assert (created.status_code, created.json()) == (200, {"status": "stored", "invoice_id": invoice.id})
    assert (invoice.workspace_id, invoice.source, invoice.external_id, invoice.number) == (
        workspace_id, "own", "inv-42", "OWN-2026-0042")  # fmt: skip
    assert isinstance(invoice.gross, Decimal) and invoice.gross == Decimal("12700.50")
    assert (invoice.currency, invoice.paid_amount, invoice.status) == ("HUF", Decimal(0), InvoiceStatus.ISSUED)
    assert (invoice.direction, invoice.kind) == (Direction.ISSUED, InvoiceKind.INVOICE)
    assert (invoice.partner_name, invoice.partner_tax_id, invoice.partner_iban, invoice.partner_email) == (
        "Kovács Kft.", "12345678-2-42", "HU42117730161111101800000000", "szamla@kovacs.example")  # fmt: skip
    assert (invoice.issue_date, invoice.due_date) == (date(2026, 3, 1), date(2026, 3, 9))
    [delivery] = all_rows(engine, WebhookDeliveryRecord)
    assert (delivery.workspace_id, delivery.source, delivery.event_id, delivery.event_type) == (
        workspace_id, "own", "evt-0001", "invoice.created")  # fmt: skip

    updated = await hooks.event(secret, invoice_event("evt-0002", "invoice.updated", paid=GROSS))

    assert (updated.status_code, updated.json()) == (200, {"status": "stored", "invoice_id": invoice.id})
    invoice = only_invoice(engine)
    assert (invoice.paid_amount, invoice.status) == (Decimal(GROSS), InvoiceStatus.PAID)

    # The sender retries: the very same event, and an event id seen before with a different body.
    again = await hooks.event(secret, invoice_event("evt-0002", "invoice.updated", paid=GROSS))
    reused = await hooks.event(secret, invoice_event("evt-0001", "invoice.updated", number="OWN-2026-9999", paid="0"))

    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    assert (reused.status_code, reused.json()) == (200, {"status": "duplicate"})
    after = only_invoice(engine)
    assert (after.number, after.paid_amount, after.status, after.updated_at) == (
        "OWN-2026-0042", Decimal(GROSS), InvoiceStatus.PAID, invoice.updated_at)  # fmt: skip
    assert sorted(d.event_id for d in all_rows(engine, WebhookDeliveryRecord)) == ["evt-0001", "evt-0002"]


async def test_an_invoice_event_matches_a_payment_that_arrived_before_it(
    engine: Engine, workspace_id: int, secret: str, hooks: Hooks, pay: Callable[..., None]
) -> None:
    pay(GROSS, "OWN-2026-0042")
    [transaction] = all_rows(engine, BankTransactionRecord)
    assert transaction.status is TransactionStatus.UNMATCHED  # nothing to pay yet

    response = await hooks.event(secret, invoice_event())

    assert response.status_code == 200
    invoice = only_invoice(engine)
    [allocation] = all_rows(engine, AllocationRecord)
    assert (allocation.invoice_id, allocation.transaction_id, allocation.amount, allocation.method) == (
        invoice.id, transaction.id, Decimal(GROSS), AllocationMethod.AUTOMATIC)  # fmt: skip
    assert (invoice.paid_amount, invoice.status) == (Decimal(GROSS), InvoiceStatus.PAID)
    [transaction] = all_rows(engine, BankTransactionRecord)
    assert transaction.status is TransactionStatus.MATCHED
    assert all_rows(engine, SourceOperationRecord) == []  # the own system has no API to write the payment to


async def test_a_new_secret_replaces_the_old_one(engine: Engine, workspace_id: int, secret: str, hooks: Hooks) -> None:
    renewed = save_credentials(engine, workspace_id, "own", {}, actor="cli:test")["webhook_secret"]

    old = await hooks.event(secret, invoice_event("evt-old"))
    new = await hooks.event(renewed, invoice_event("evt-new"))

    assert old.status_code == 401 and new.status_code == 200
    assert [d.event_id for d in all_rows(engine, WebhookDeliveryRecord)] == ["evt-new"]


# --- own system: refused requests ----------------------------------------------------------------------------

BODY = encode(invoice_event())
TAMPERED = encode(invoice_event(gross="1.00"))
Forge = Callable[[str, int], tuple[bytes, dict[str, Any]]]
FORGERIES: dict[str, tuple[Forge, str]] = {
    "wrong secret": (
        lambda secret, now: (BODY, {SIGNATURE_HEADER: signature(secret + "x", BODY, now)}),
        "the signature does not match the body",
    ),
    "tampered body": (
        lambda secret, now: (TAMPERED, {SIGNATURE_HEADER: signature(secret, BODY, now)}),
        "the signature does not match the body",
    ),
    "other timestamp than signed": (
        lambda secret, now: (
            BODY,
            {SIGNATURE_HEADER: signature(secret, BODY, now).replace(f"t={now}", f"t={now - 1}")},
        ),
        "the signature does not match the body",
    ),
    "missing header": (lambda secret, now: (BODY, {}), f"missing or malformed {SIGNATURE_HEADER} header"),
    "no timestamp": (
        lambda secret, now: (BODY, {SIGNATURE_HEADER: signature(secret, BODY, now).split(",")[1]}),
        f"missing or malformed {SIGNATURE_HEADER} header",
    ),
    "no digest": (lambda secret, now: (BODY, {SIGNATURE_HEADER: f"t={now}"}), "missing or malformed"),
    "ten minutes old": (
        lambda secret, now: (BODY, {SIGNATURE_HEADER: signature(secret, BODY, now - 600)}),
        "the signature timestamp is more than 5 minutes away from now",
    ),
    "ten minutes ahead": (
        lambda secret, now: (BODY, {SIGNATURE_HEADER: signature(secret, BODY, now + 600)}),
        "the signature timestamp is more than 5 minutes away from now",
    ),
    "timestamp of 5000 digits": (
        lambda secret, now: (BODY, {SIGNATURE_HEADER: f"t={'9' * 5000},v1={'0' * 64}"}),
        "missing or malformed",
    ),
    "non-ASCII digit timestamp": (
        lambda secret, now: (BODY, {SIGNATURE_HEADER: "t=²,v1=00".encode()}),
        "missing or malformed",
    ),
    "non-ASCII digest": (
        lambda secret, now: (BODY, {SIGNATURE_HEADER: f"t={now},v1=é".encode()}),
        "missing or malformed",
    ),
}


@pytest.mark.parametrize("case", list(FORGERIES))
async def test_a_request_not_signed_with_the_secret_is_refused_and_stores_nothing(
    engine: Engine, secret: str, hooks: Hooks, case: str
) -> None:
    forge, reason = FORGERIES[case]
    body, headers = forge(secret, hooks.now)

    response = await hooks.post(f"/hooks/own/{SLUG}", body, headers)

    assert response.status_code == 401, response.text
    assert reason in response.json()["error"]
    assert (count(engine, InvoiceRecord), count(engine, WebhookDeliveryRecord)) == (0, 0)


async def test_a_signature_at_the_edge_of_the_tolerance_is_accepted(engine: Engine, secret: str, hooks: Hooks) -> None:
    response = await hooks.event(secret, invoice_event(), at=hooks.now - 300)

    assert response.status_code == 200 and count(engine, InvoiceRecord) == 1


def _without(field: str) -> bytes:
    event = invoice_event()
    del event["data"][field]
    return encode(event)


MALFORMED: dict[str, tuple[bytes, str]] = {
    "not JSON": (b'{"id": "evt-1", "type": ', "webhook: body: not JSON"),
    "not an object": (encode([invoice_event()]), "webhook: body: must be a JSON object"),
    "no event id": (encode({k: v for k, v in invoice_event().items() if k != "id"}), "webhook: id: "),
    "blank event id": (encode({**invoice_event(), "id": "  "}), "webhook: id: "),
    "unknown type": (encode(invoice_event(kind="invoice.deleted")), "webhook: type: 'invoice.deleted' is not one of"),
    "no data": (encode({"id": "evt-1", "type": "invoice.created"}), "webhook: data: must be a JSON object"),
    "no data.number": (_without("number"), "webhook: data.number: is missing"),
    "no data.id": (_without("id"), "webhook: data.id: is missing"),
    "no data.gross": (_without("gross"), "webhook: data.gross: is missing"),
    "gross 12,5x": (encode(invoice_event(gross="12,5x")), "webhook: data.gross: '12,5x' is not a number"),
    "gross NaN": (encode(invoice_event(gross="NaN")), "webhook: data.gross: 'NaN' is not a number"),
    "paid as a list": (encode(invoice_event(paid=[1])), "webhook: data.paid: "),
    "currency XX1": (encode(invoice_event(currency="XX1")), "webhook: data.currency: 'XX1' is not an ISO 4217"),
    "issue date 30 February": (
        encode(invoice_event(issue_date="2026-02-30")),
        "webhook: data.issue_date: '2026-02-30' is not a date",
    ),
    "due date in words": (encode(invoice_event(due_date="next week")), "webhook: data.due_date: 'next week'"),
    "unknown direction": (encode(invoice_event(direction="sideways")), "webhook: data.direction: 'sideways'"),
    "partner not an object": (encode(invoice_event(partner="Kovács")), "webhook: data.partner: must be a JSON object"),
    "sale without payment method": (
        encode(sale_event("evt-s", id="S-1", total="100", paid="100")),
        "data: payment_method: is missing",
    ),
    "sale with a tip above the total": (
        encode(sale_event("evt-s", id="S-1", total="100", paid="100", payment_method="Cash", tip="150")),
        "data: tip: ",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_a_malformed_event_is_refused_naming_the_field_and_stores_nothing(
    engine: Engine, secret: str, hooks: Hooks, case: str
) -> None:
    body, reason = MALFORMED[case]

    response = await hooks.event(secret, body)

    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(reason), response.json()
    assert (count(engine, InvoiceRecord), count(engine, WebhookDeliveryRecord), count(engine, SaleRecord)) == (0, 0, 0)


async def test_an_unknown_workspace_or_one_without_the_own_system_is_not_found(
    engine: Engine, workspace_id: int, hooks: Hooks
) -> None:
    with session_scope(engine) as session:
        other = ensure_workspace(session, "masik", name="Másik Kft.", country="HU", currency="HUF")
    assert other.id is not None
    other_secret = save_credentials(engine, other.id, "own", {}, actor="cli:test")["webhook_secret"]
    save_credentials(engine, workspace_id, "fakturownia", {"api_token": "t0k3n", "account": "kert"}, actor="cli:test")

    unknown = await hooks.event(other_secret, invoice_event(), slug="nincs-ilyen")
    not_set_up = await hooks.event(other_secret, invoice_event(), slug=SLUG)  # kert has no own system

    for response in (unknown, not_set_up):
        assert response.status_code == 404
        assert response.json() == {"error": "no own invoicing system is set up for this workspace"}
    assert (count(engine, InvoiceRecord), count(engine, WebhookDeliveryRecord)) == (0, 0)


async def test_another_workspace_s_secret_does_not_sign_for_this_one(
    engine: Engine, workspace_id: int, secret: str, hooks: Hooks
) -> None:
    with session_scope(engine) as session:
        other = ensure_workspace(session, "masik", name="Másik Kft.", country="HU", currency="HUF")
    assert other.id is not None
    other_secret = save_credentials(engine, other.id, "own", {}, actor="cli:test")["webhook_secret"]

    response = await hooks.event(other_secret, invoice_event(), slug=SLUG)
    accepted = await hooks.event(other_secret, invoice_event(), slug="masik")

    assert response.status_code == 401 and accepted.status_code == 200
    assert [i.workspace_id for i in all_rows(engine, InvoiceRecord)] == [other.id]


# --- own system: paid sales ----------------------------------------------------------------------------------

CUSTOMER = {"name": "Nagy Anna", "email": "anna@example.hu", "address": {"country": "HU", "post_code": "1051",
            "city": "Budapest", "street": "Fő utca 1."}}  # fmt: skip


def paid_sale(sale_id: str = "S-1001", **changes: Any) -> dict[str, Any]:
    sale = {"id": sale_id, "total": "15240", "paid": "15240", "payment_method": "Card", "tip": "1000",
            "language": "hu", "customer": CUSTOMER}  # fmt: skip
    sale.update(changes)
    return sale


async def test_a_paid_sale_is_invoiced_once_in_the_connected_system_and_e_mailed(
    engine: Engine,
    workspace_id: int,
    sources: InvoiceSources,
    billingo: FakeBillingo,
    secret: str,
    hooks: Hooks,
) -> None:
    response = await hooks.event(secret, sale_event("evt-s1", **paid_sale()))

    assert response.status_code == 202, response.text
    [sale] = all_rows(engine, SaleRecord)
    assert response.json() == {"status": "invoicing", "sale_id": sale.id}
    assert (sale.origin, sale.external_id, sale.total, sale.paid) == ("own", "S-1001", Decimal(15240), Decimal(15240))
    [operation] = sale_operations(engine)
    assert operation.id is not None and (operation.source, operation.sale_id) == ("billingo", sale.id)
    done = await finished_operation(sources, operation.id)

    assert done.status is OperationStatus.DONE, done.last_error
    [document] = billingo.documents.values()
    assert billingo.by_vendor_id(f"reconbot-w{workspace_id}-sale-{sale.id}") is document
    assert (document["payment_method"], document["language"], document["currency"]) == ("bankcard", "hu", "HUF")
    assert Decimal(str(document["gross_total"])) == Decimal(15240)
    lines = [(item["name"], Decimal(str(item["unit_price"])), item["vat"]) for item in document["items"]]
    assert lines == [("Értékesítés", Decimal(14240), "27%"), ("Borravaló", Decimal(1000), "0%")]
    assert billingo.sent == [(document["id"], ["anna@example.hu"])]
    [sale] = all_rows(engine, SaleRecord)
    invoice = only_invoice(engine)
    assert sale.invoice_id == invoice.id == done.result["invoice_id"]
    assert (invoice.source, invoice.external_id, invoice.gross, invoice.status) == (
        "billingo", str(document["id"]), Decimal(15240), InvoiceStatus.PAID)  # fmt: skip
    assert [e["sale"] for e in outbox(engine, "sale_invoiced")] == ["S-1001"]

    # The till reports the same sale again (a retry, or a new event about it): no second invoice.
    again = await hooks.event(secret, sale_event("evt-s1", **paid_sale()))
    other_event = await hooks.event(secret, sale_event("evt-s2", **paid_sale()))

    for answer in (again, other_event):
        assert (answer.status_code, answer.json()) == (200, {"status": "invoiced", "sale_id": sale.id})
    assert len(billingo.documents) == 1 and len(billingo.calls("POST", "/documents")) == 1
    assert len(billingo.sent) == 1
    assert len(sale_operations(engine)) == 1 and count(engine, SaleRecord) == 1


async def test_a_sale_reported_twice_at_once_gets_one_invoice(
    engine: Engine, sources: InvoiceSources, billingo: FakeBillingo, secret: str, hooks: Hooks
) -> None:
    first, second = await asyncio.gather(
        hooks.event(secret, sale_event("evt-a", **paid_sale())), hooks.event(secret, sale_event("evt-b", **paid_sale()))
    )

    assert {first.status_code, second.status_code} <= {200, 202}
    assert {first.json()["status"], second.json()["status"]} <= {"invoicing", "invoiced"}
    [operation] = sale_operations(engine)
    assert operation.id is not None
    assert (await finished_operation(sources, operation.id)).status is OperationStatus.DONE
    await asyncio.sleep(0.1)  # let a second background run, if any, reach Billingo
    assert len(billingo.calls("POST", "/documents")) == 1 and len(billingo.sent) == 1


async def test_a_partly_paid_sale_is_stored_but_not_invoiced(
    engine: Engine, billingo: FakeBillingo, secret: str, hooks: Hooks
) -> None:
    response = await hooks.event(secret, sale_event("evt-p", **paid_sale("S-1002", total="8000", paid="5000", tip="")))

    [sale] = all_rows(engine, SaleRecord)
    assert (response.status_code, response.json()) == (200, {"status": "not_fully_paid", "sale_id": sale.id})
    assert (sale.external_id, sale.total, sale.paid, sale.invoice_id) == ("S-1002", Decimal(8000), Decimal(5000), None)
    assert sale_operations(engine) == [] and outbox(engine, "sale_paid") == []
    await asyncio.sleep(0.1)
    assert billingo.requests == [] and billingo.documents == {}


async def test_in_manual_mode_a_walk_in_sale_waits_for_a_person(
    engine: Engine, workspace_id: int, billingo: FakeBillingo, secret: str, hooks: Hooks
) -> None:
    update_settings(engine, workspace_id, actor="cli:test", sale_mode=InvoicingMode.MANUAL)
    walk_in = {k: v for k, v in paid_sale("S-1003", tip="0", payment_method="Cash").items() if k != "customer"}

    response = await hooks.event(secret, sale_event("evt-w", **walk_in))

    [sale] = all_rows(engine, SaleRecord)
    assert (response.status_code, response.json()) == (200, {"status": "waiting_for_approval", "sale_id": sale.id})
    [announcement] = outbox(engine, "sale_paid")
    assert (announcement["sale_id"], announcement["sale"], announcement["total"]) == (sale.id, "S-1003", "15240")
    assert announcement["action"] == "generate_invoice"
    assert sale_operations(engine) == [] and sale.invoice_id is None
    await asyncio.sleep(0.1)
    assert billingo.requests == [] and billingo.documents == {}


# --- Számlázz.hu data push -----------------------------------------------------------------------------------


async def test_szamlazz_pushes_an_invoice_with_its_token(
    engine: Engine, workspace_id: int, szamlazz: FakeSzamlazz, hooks: Hooks
) -> None:
    token = credentials(engine, workspace_id, "szamlazz")["push_token"]
    document = szamlazz.add_invoice("E-RB-2026-77", "25400.50", buyer_name="Árvíztűrő Kft.",
                                    payments=(("2026-03-01", "25400.50", "átutalás"),))  # fmt: skip
    xml = szamla_xml(document)
    headers = {"Content-Type": "application/xml"}

    wrong = await hooks.post(f"/hooks/szamlazz/{SLUG}/{token}x", xml, headers)
    non_ascii = await hooks.post(f"/hooks/szamlazz/{SLUG}/{token[:-1]}é", xml, headers)
    other_workspace = await hooks.post(f"/hooks/szamlazz/nincs-ilyen/{token}", xml, headers)

    for refused in (wrong, non_ascii, other_workspace):
        assert refused.status_code == 401, refused.text
        assert refused.json() == {"error": "unknown workspace or push token"}
    assert count(engine, InvoiceRecord) == 0

    pushed = await hooks.post(f"/hooks/szamlazz/{SLUG}/{token}", xml, headers)

    assert (pushed.status_code, pushed.json()) == (200, {"status": "stored"})
    invoice = only_invoice(engine)
    assert (invoice.workspace_id, invoice.source, invoice.external_id, invoice.number) == (
        workspace_id, "szamlazz", document.id, "E-RB-2026-77")  # fmt: skip
    assert (invoice.gross, invoice.paid_amount, invoice.status) == (
        Decimal("25400.50"), Decimal("25400.50"), InvoiceStatus.PAID)  # fmt: skip
    assert (invoice.partner_name, invoice.issue_date) == ("Árvíztűrő Kft.", document.issue_date)

    # A push of the same invoice again updates it in place.
    assert (await hooks.post(f"/hooks/szamlazz/{SLUG}/{token}", xml, headers)).status_code == 200
    assert count(engine, InvoiceRecord) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"xmlagentresponse=DONE;E-1", "not XML"),
        (b'{"szamla": {}}', "not XML"),
        (b'<xmlszamlavalasz xmlns="http://www.szamlazz.hu/xmlszamlavalasz"/>', "expected <szamla"),
        (b'<szamla xmlns="http://www.szamlazz.hu/szamla"><alap/></szamla>', "alap/szamlaszam is missing"),
    ],
)
async def test_a_push_that_is_no_szamlazz_invoice_is_refused(
    engine: Engine, workspace_id: int, szamlazz: FakeSzamlazz, hooks: Hooks, body: bytes, reason: str
) -> None:
    token = credentials(engine, workspace_id, "szamlazz")["push_token"]

    response = await hooks.post(f"/hooks/szamlazz/{SLUG}/{token}", body, {"Content-Type": "application/xml"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("not a Számlázz.hu invoice: ") and reason in error
    assert count(engine, InvoiceRecord) == 0


async def test_the_push_needs_szamlazz_set_up(engine: Engine, workspace_id: int, secret: str, hooks: Hooks) -> None:
    # The own system's secret is no push token, and a workspace without Számlázz.hu has none.
    document = FakeSzamlazz().add_invoice("E-RB-2026-78")

    response = await hooks.post(f"/hooks/szamlazz/{SLUG}/{secret}", szamla_xml(document))

    assert response.status_code == 401 and count(engine, InvoiceRecord) == 0


# --- secrets -------------------------------------------------------------------------------------------------


async def test_the_webhook_secret_is_never_answered_logged_or_audited(
    engine: Engine, workspace_id: int, secret: str, hooks: Hooks, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers = [
        await hooks.event(secret, invoice_event("evt-1")),
        await hooks.event(secret, invoice_event("evt-1")),  # duplicate
        await hooks.event(secret + "x", invoice_event("evt-2")),  # wrong secret
        await hooks.event(secret, invoice_event("evt-2"), at=hooks.now - 600),  # too old
        await hooks.post(f"/hooks/own/{SLUG}", encode(invoice_event("evt-3"))),  # unsigned
        await hooks.event(secret, invoice_event("evt-4", gross="12,5x")),  # malformed
        await hooks.event(secret, sale_event("evt-5", **paid_sale("S-9", total="10", paid="5", tip=""))),
        await hooks.event(secret, invoice_event("evt-6"), slug="nincs-ilyen"),
    ]

    assert [a.status_code for a in answers] == [200, 200, 401, 401, 401, 400, 200, 404]
    for answer in answers:
        assert secret not in answer.text
        assert all(secret not in value for value in answer.headers.values())
    assert secret not in caplog.text
    assert all(secret not in json.dumps(event.data) for event in all_rows(engine, AuditEventRecord))
