"""What every page handler shares: the application's keys and HTML rendering."""

from __future__ import annotations

import jinja2
from aiohttp import web

from core.services.bank_providers import BankFeeds
from core.services.invoice_sources import InvoiceSources

FEEDS_KEY = web.AppKey("feeds", BankFeeds)
TEMPLATES_KEY = web.AppKey("templates", jinja2.Environment)
INVOICING_KEY = web.AppKey("invoicing", InvoiceSources)


def feeds(request: web.Request) -> BankFeeds:
    """Return the bank-feed services' context (database, clock, public address) of the application."""
    return request.app[FEEDS_KEY]


def render(request: web.Request, template: str, status: int = 200, **context: object) -> web.Response:
    """Return the HTML response of ``template`` rendered with ``context`` (autoescaped)."""
    html = request.app[TEMPLATES_KEY].get_template(template).render(**context)
    return web.Response(text=html, content_type="text/html", status=status)
