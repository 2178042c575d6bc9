"""What every page handler shares: the application's keys, who is looking, and HTML rendering."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote, unquote

import jinja2
from aiohttp import web

from reconbot.core.money import format_money
from reconbot.core.roles import BANK_DATA_ROLES, INVOICING_ROLES, SETUP_ROLES, Role
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.invoicing.sources import InvoiceSources
from reconbot.core.services.people.sessions import Viewer

FEEDS_KEY = web.AppKey("feeds", BankFeeds)
TEMPLATES_KEY = web.AppKey("templates", jinja2.Environment)
INVOICING_KEY = web.AppKey("invoicing", InvoiceSources)
# Called after the panel changes chat settings, so the running bots follow without a restart (None in tests
# that serve no bots).
CHAT_RELOAD_KEY: web.AppKey[Callable[[], object]] = web.AppKey("chat_reload")

VIEWER: web.RequestKey[Viewer | None] = web.RequestKey("viewer")  # the signed-in viewer, or None
CSRF = web.RequestKey("csrf_token", str)  # the token every form must carry back
CSRF_FIELD = "csrf_token"  # the form field that carries it


@dataclass(frozen=True, slots=True)
class NavItem:
    path: str
    label: str
    roles: frozenset[Role] | None  # None: every member


NAV = (
    NavItem("/", "Home", None),
    NavItem("/workbench", "Workbench", BANK_DATA_ROLES),
    NavItem("/invoices", "Invoices", None),
    NavItem("/archive", "Archive", None),
    NavItem("/bank", "Bank", BANK_DATA_ROLES),
    NavItem("/invoicing", "Invoicing", SETUP_ROLES),
    NavItem("/chat", "Chat", SETUP_ROLES),
    NavItem("/members", "Members", SETUP_ROLES),
    NavItem("/settings", "Matching", SETUP_ROLES),
    NavItem("/handoff", "Handoff", SETUP_ROLES | INVOICING_ROLES | {Role.ACCOUNTANT}),
    NavItem("/audit", "Audit log", SETUP_ROLES),
    NavItem("/status", "Status", None),
)


def feeds(request: web.Request) -> BankFeeds:
    """Return the bank-feed services' context (database, clock, public address) of the application."""
    return request.app[FEEDS_KEY]


def now(request: web.Request) -> datetime:
    """Return the application's clock reading (tests move it)."""
    return request.app[FEEDS_KEY].clock()


def viewer(request: web.Request) -> Viewer:
    """Return the signed-in viewer of a page guarded by ``reconbot.admin.security.requires``."""
    found: Viewer | None = request.get(VIEWER)
    if found is None:
        raise web.HTTPFound("/login")
    return found


def render(request: web.Request, template: str, status: int = 200, **context: object) -> web.Response:
    """Return the HTML response of ``template`` rendered with ``context`` (autoescaped), plus what every page
    needs: the viewer, their navigation, the CSRF token and a money formatter in the workspace's language."""
    who: Viewer | None = request.get(VIEWER)
    language = who.language.value if who else "en"
    locale = {"hu": "hu_HU", "pl": "pl_PL"}.get(language, "en")

    def money(amount: Decimal | str | None, currency: str) -> str:
        return "" if amount is None else format_money(Decimal(amount), currency, locale)

    context = {
        "viewer": who,
        "nav": [item for item in NAV if who and (item.roles is None or who.role in item.roles)],
        "path": request.path,
        "csrf_token": request.get(CSRF, ""),
        "money": money,
        "flash": unquote(request.cookies.get(FLASH_COOKIE, "")),
        **context,
    }
    html = request.app[TEMPLATES_KEY].get_template(template).render(**context)
    response = web.Response(text=html, content_type="text/html", status=status)
    if FLASH_COOKIE in request.cookies:
        response.del_cookie(FLASH_COOKIE, path="/")
    return response


def form_error(request: web.Request, message: str, *, status: int = 400, title: str = "Not done") -> web.Response:
    """Return the page telling the viewer, in one line, why what they sent was not done."""
    return render(request, "message.html", status=status, title=title, message=message, ok=False)


FLASH_COOKIE = "rb_flash"


def redirect_with(request: web.Request, location: str, message: str) -> web.HTTPSeeOther:
    """Return the redirect that ends a successful form post: the next page shows ``message`` once."""
    response = web.HTTPSeeOther(location)
    response.set_cookie(FLASH_COOKIE, quote(message[:300]), httponly=True, samesite="Strict", path="/")
    return response
