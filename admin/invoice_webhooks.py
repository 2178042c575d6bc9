"""Invoices and sales pushed to reconbot: the own system's signed webhook and Számlázz.hu's data push.

Answers: 401 for a bad signature or token, 400 with the reason for a malformed body,
404 for an unknown workspace or a system it has not set up; nothing is stored from any
of them. A delivery sent again is answered 200 ``duplicate`` and changes nothing.

An own-system invoice event may carry the invoice's PDF (``data.pdf_base64``, see
``reconbot.core.invoicing.own_system``): a body above ``MAX_EVENT_BYTES`` is answered 413, a PDF that is
no PDF or too large 400, both before anything is stored. Once the invoice is stored the PDF goes to
the app's ``PDF_SINK_KEY`` callable (the archive); if that fails the answer is 503 and the sender
sends the event again: a resent event whose invoice is stored hands its PDF over again, so the sink
must take the same bytes twice without harm (the archive keeps one version per content hash).
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web

from reconbot.admin.rendering import FEEDS_KEY, INVOICING_KEY
from reconbot.core.archive.storage import storage_from_settings
from reconbot.core.errors import InputError, ProviderError, ReconciliationError
from reconbot.core.invoicing.own_system import (
    MAX_EVENT_BYTES,
    SIGNATURE_HEADER,
    OwnEvent,
    SignatureError,
    parse_event,
    verify,
)
from reconbot.core.services.archive.fetching import archive_own_pdf
from reconbot.core.services.invoicing.pdfs import stored_number
from reconbot.core.services.invoicing.sales import record_sale
from reconbot.core.services.invoicing.sources import OWN, webhook_credentials
from reconbot.core.services.invoicing.sync import receive_invoices
from reconbot.core.services.invoicing.write_back import run_operation

log = logging.getLogger(__name__)
OWN_PATH = "/hooks/own/{workspace}"
SZAMLAZZ_PATH = "/hooks/szamlazz/{workspace}/{token}"
_TASKS_KEY = web.AppKey("invoice_tasks", set)

#: Takes (workspace id, invoice number, PDF bytes) of an invoice the own system sent, and keeps the PDF.
PdfSink = Callable[[int, str, bytes], Awaitable[None] | None]
PDF_SINK_KEY: web.AppKey[PdfSink] = web.AppKey("invoice_pdf_sink")


def register(app: web.Application) -> None:
    app[_TASKS_KEY] = set()
    feeds = app[FEEDS_KEY]

    def archive_sink(workspace_id: int, number: str, pdf: bytes) -> None:
        archive_own_pdf(feeds.engine, storage_from_settings(), workspace_id, number, pdf, now=feeds.clock())

    app[PDF_SINK_KEY] = archive_sink
    app.router.add_post(OWN_PATH, own_system_event)
    app.router.add_post(SZAMLAZZ_PATH, szamlazz_push)


def _problem(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def own_system_event(request: web.Request) -> web.Response:
    """Store an invoice (created/updated) or a paid sale from the workspace's own system."""
    sources = request.app[INVOICING_KEY]
    found = webhook_credentials(sources.engine, request.match_info["workspace"], OWN)
    if found is None:
        return _problem(404, "no own invoicing system is set up for this workspace")
    workspace_id, secret = found.workspace_id, found.values["webhook_secret"]
    body = await _read_at_most(request, MAX_EVENT_BYTES)
    if body is None:
        return _problem(413, f"the event is larger than {MAX_EVENT_BYTES} bytes; a PDF may be at most 10 MiB")
    try:
        verify(secret, request.headers.get(SIGNATURE_HEADER, ""), body, sources.clock())
    except SignatureError as exc:
        return _problem(401, str(exc))
    try:
        event = parse_event(body)
    except InputError as exc:
        return _problem(400, str(exc))
    actor = f"{OWN}:webhook"
    if event.invoice is not None:
        received = receive_invoices(sources.engine, workspace_id, OWN, [event.invoice], actor=actor,
                                    delivery=(event.id, event.type))  # fmt: skip
        invoice = event.invoice.invoice
        if received.duplicate:
            # A resend after a failed hand-over: the PDF of the invoice stored from it goes to the sink again.
            again = (
                event.pdf is not None and stored_number(sources.engine, workspace_id, OWN, invoice.id) == invoice.number
            )
            failed = await _hand_over_pdf(request.app, workspace_id, event) if again else None
            return failed or web.json_response({"status": "duplicate"})
        if received.stored.conflicts:
            return _problem(409, received.stored.conflicts[0])
        answer: dict[str, Any] = {"status": "stored", "invoice_id": received.stored.ids.get(invoice.id)}
        if event.pdf is not None:
            if failed := await _hand_over_pdf(request.app, workspace_id, event):
                return failed
            answer["pdf"] = "received"
        return web.json_response(answer)
    assert event.sale is not None
    try:
        recorded = record_sale(sources.engine, workspace_id, event.sale, origin=OWN, actor=actor)
    except ReconciliationError as exc:
        return _problem(409, str(exc))
    if recorded.operation_id is not None:
        _in_background(request.app, run_operation(sources, recorded.operation_id))
        return web.json_response({"status": "invoicing", "sale_id": recorded.sale_id}, status=202)
    status = "invoiced" if recorded.invoiced else "waiting_for_approval" if recorded.fully_paid else "not_fully_paid"
    return web.json_response({"status": status, "sale_id": recorded.sale_id})


async def szamlazz_push(request: web.Request) -> web.Response:
    """Store an invoice Számlázz.hu's data push sent (the same ``<szamla>`` XML its query answers)."""
    from reconbot.core.invoicing.szamlazz_xml import parse_invoice_xml

    sources = request.app[INVOICING_KEY]
    found = webhook_credentials(sources.engine, request.match_info["workspace"], "szamlazz")
    token = request.match_info["token"]
    # compare_digest raises TypeError for non-ASCII text: a token with "é" in the URL is just a wrong token.
    if found is None or not token.isascii() or not hmac.compare_digest(found.values.get("push_token", ""), token):
        return _problem(401, "unknown workspace or push token")
    body = await request.read()
    try:
        invoice = parse_invoice_xml(body)
    except (InputError, ProviderError, ValueError) as exc:
        return _problem(400, f"not a Számlázz.hu invoice: {exc}")
    received = receive_invoices(sources.engine, found.workspace_id, "szamlazz", [invoice], actor="szamlazz:push")
    if received.stored.conflicts:
        return _problem(409, received.stored.conflicts[0])
    return web.json_response({"status": "stored"})


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """Return the request body, or None when it is longer than ``limit`` bytes (read no further than that)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def _hand_over_pdf(app: web.Application, workspace_id: int, event: OwnEvent) -> web.Response | None:
    """Give the event's PDF to the app's sink; return None when it took it, else the 503 to answer."""
    assert event.invoice is not None and event.pdf is not None
    number = event.invoice.invoice.number
    try:
        result = app[PDF_SINK_KEY](workspace_id, number, event.pdf)
        if inspect.isawaitable(result):
            await result
    except Exception:  # whatever the archive fails with, the sender must send the event again
        log.exception("invoice %s (workspace %s): its PDF could not be stored", number, workspace_id)
        return _problem(503, f"invoice {number} is stored, but its PDF could not be; send the event again")
    return None


def _in_background(app: web.Application, work: Coroutine[Any, Any, object]) -> None:
    # The sender gets its answer now; the invoice is issued right after (the worker would retry it anyway).
    task = asyncio.ensure_future(work)
    app[_TASKS_KEY].add(task)
    task.add_done_callback(app[_TASKS_KEY].discard)
