"""The one aiohttp application ``reconbot run`` serves, and the way it is served."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import text

from admin import bank_pages, invoice_webhooks
from admin.rendering import FEEDS_KEY, INVOICING_KEY, TEMPLATES_KEY
from core.services.bank_providers import BankFeeds
from core.services.invoice_sources import InvoiceSources

_TEMPLATES = Path(__file__).with_name("templates")


def create_app(feeds: BankFeeds, invoicing: InvoiceSources | None = None) -> web.Application:
    """Return the web application working on ``feeds`` (its database, clock and public address) and
    ``invoicing`` (by default on the same database and clock)."""
    app = web.Application(middlewares=[security_headers])
    app[FEEDS_KEY] = feeds
    app[INVOICING_KEY] = invoicing or InvoiceSources(feeds.engine, clock=feeds.clock, sleep=feeds.sleep)
    app[TEMPLATES_KEY] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    app.router.add_get("/healthz", healthz)
    bank_pages.register(app)
    invoice_webhooks.register(app)
    return app


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    # Inline styles only, no scripts: the pages need nothing else.
    response.headers.setdefault(
        "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:"
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")  # the callback URL carries the bank's code
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


async def healthz(request: web.Request) -> web.Response:
    """Return 200 when the database answers, 503 otherwise."""
    try:
        with request.app[FEEDS_KEY].engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"; the reason goes to the log, not the page
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})
