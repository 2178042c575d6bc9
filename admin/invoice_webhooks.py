"""Invoices and sales pushed to reconbot: the own system's signed webhook and Számlázz.hu's data push.

Answers: 401 for a bad signature or token, 400 with the reason for a malformed body,
404 for an unknown workspace or a system it has not set up; nothing is stored from any
of them. A delivery sent again is answered 200 ``duplicate`` and changes nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web
from sqlmodel import Session, col, select

from admin.rendering import INVOICING_KEY
from core.encryption import unseal
from core.errors import InputError, ProviderError, ReconciliationError
from core.invoicing.own_system import SIGNATURE_HEADER, SignatureError, parse_event, verify
from core.persistence.tables import WorkspaceRecord
from core.services.invoice_sources import OWN, InvoiceSources, find_source
from core.services.invoice_sync import receive_invoices
from core.services.sales import record_sale
from core.services.write_back import run_operation

log = logging.getLogger("reconbot.web")
OWN_PATH = "/hooks/own/{workspace}"
SZAMLAZZ_PATH = "/hooks/szamlazz/{workspace}/{token}"
_TASKS_KEY = web.AppKey("invoice_tasks", set)


def register(app: web.Application) -> None:
    app[_TASKS_KEY] = set()
    app.router.add_post(OWN_PATH, own_system_event)
    app.router.add_post(SZAMLAZZ_PATH, szamlazz_push)


def _problem(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _credentials(sources: InvoiceSources, slug: str, name: str) -> tuple[int, dict[str, str]] | None:
    with Session(sources.engine) as session:
        workspace = session.exec(select(WorkspaceRecord).where(col(WorkspaceRecord.slug) == slug)).first()
        record = find_source(session, workspace.id, name) if workspace and workspace.id else None
        if workspace is None or workspace.id is None or record is None:
            return None
        return workspace.id, unseal(record.credentials)


async def own_system_event(request: web.Request) -> web.Response:
    """Store an invoice (created/updated) or a paid sale from the workspace's own system."""
    sources = request.app[INVOICING_KEY]
    found = _credentials(sources, request.match_info["workspace"], OWN)
    if found is None:
        return _problem(404, "no own invoicing system is set up for this workspace")
    workspace_id, secret = found[0], found[1]["webhook_secret"]
    body = await request.read()
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
        if received.duplicate:
            return web.json_response({"status": "duplicate"})
        if received.stored.conflicts:
            return _problem(409, received.stored.conflicts[0])
        return web.json_response({"status": "stored", "invoice_id": received.stored.ids.get(event.invoice.invoice.id)})
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
    from core.invoicing.szamlazz_xml import parse_invoice_xml

    sources = request.app[INVOICING_KEY]
    found = _credentials(sources, request.match_info["workspace"], "szamlazz")
    token = request.match_info["token"]
    # compare_digest raises TypeError for non-ASCII text: a token with "é" in the URL is just a wrong token.
    if found is None or not token.isascii() or not hmac.compare_digest(found[1].get("push_token", ""), token):
        return _problem(401, "unknown workspace or push token")
    body = await request.read()
    try:
        invoice = parse_invoice_xml(body)
    except (InputError, ProviderError, ValueError) as exc:
        return _problem(400, f"not a Számlázz.hu invoice: {exc}")
    received = receive_invoices(sources.engine, found[0], "szamlazz", [invoice], actor="szamlazz:push")
    if received.stored.conflicts:
        return _problem(409, received.stored.conflicts[0])
    return web.json_response({"status": "stored"})


def _in_background(app: web.Application, work: Coroutine[Any, Any, object]) -> None:
    # The sender gets its answer now; the invoice is issued right after (the worker would retry it anyway).
    task = asyncio.ensure_future(work)
    app[_TASKS_KEY].add(task)
    task.add_done_callback(app[_TASKS_KEY].discard)
