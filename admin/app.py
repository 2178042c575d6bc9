"""The one aiohttp application ``reconbot run`` serves: the panel, the bank callback, the invoicing webhooks,
the chat endpoints (added by the chat runtime), ``/healthz`` and ``/metrics``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2
from aiohttp import web

from reconbot.admin import (
    account_pages,
    archive_pages,
    audit_pages,
    bank_pages,
    chat_pages,
    handoff_pages,
    home_pages,
    invoice_pages,
    invoice_webhooks,
    invoicing_pages,
    member_pages,
    metrics,
    settings_pages,
    status_pages,
    workbench_pages,
)
from reconbot.admin.rendering import CHAT_RELOAD_KEY, FEEDS_KEY, INVOICING_KEY, TEMPLATES_KEY
from reconbot.admin.security import security_headers, sign_in_and_csrf
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.invoicing.sources import InvoiceSources
from reconbot.core.services.status.health import database_answers

_TEMPLATES = Path(__file__).with_name("templates")
# Form posts are small; a larger body is refused before it is read (invoice CSV uploads have their own limit).
MAX_BODY = 8 * 1024 * 1024


def create_app(
    feeds: BankFeeds, invoicing: InvoiceSources | None = None, *, chat_reload: Callable[[], object] | None = None
) -> web.Application:
    """Return the web application working on ``feeds`` (its database, clock and public address) and
    ``invoicing`` (by default on the same database and clock); ``chat_reload`` is called after the panel
    changes chat settings."""
    app = web.Application(middlewares=[security_headers, sign_in_and_csrf], client_max_size=MAX_BODY)
    app[FEEDS_KEY] = feeds
    app[INVOICING_KEY] = invoicing or InvoiceSources(feeds.engine, clock=feeds.clock, sleep=feeds.sleep)
    app[CHAT_RELOAD_KEY] = chat_reload or (lambda: None)
    app[TEMPLATES_KEY] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    app.router.add_get("/healthz", healthz)
    pages = (account_pages, home_pages, bank_pages, invoicing_pages, settings_pages, chat_pages, member_pages,
             workbench_pages, invoice_pages, archive_pages, handoff_pages, audit_pages, status_pages, metrics,
             invoice_webhooks)  # fmt: skip
    for module in pages:
        module.register(app)
    return app


async def healthz(request: web.Request) -> web.Response:
    """Return 200 when the database answers, 503 otherwise."""
    if not database_answers(request.app[FEEDS_KEY].engine):
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})
