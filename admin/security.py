"""What guards every page: security headers, who is signed in, CSRF tokens, and role checks.

CSRF: each browser gets a random ``rb_csrf`` cookie (HttpOnly, SameSite=Strict); every form carries
``HMAC(key, cookie)`` back, and every POST to the panel without the matching token is refused. Endpoints
other systems call (Slack, Telegram, invoicing webhooks, the sandbox bank standing in for a bank's own
site) authenticate by their own signatures and are left out.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Handler

from reconbot.admin.rendering import CSRF, CSRF_FIELD, VIEWER, feeds, render
from reconbot.core.encryption import derived_key
from reconbot.core.roles import Role
from reconbot.core.services.people.sessions import Viewer, viewer_for

SESSION_COOKIE = "rb_session"
CSRF_COOKIE = "rb_csrf"
# Machine endpoints with their own authentication (signatures, secret tokens, one-time references).
EXTERNAL_PREFIXES = ("/slack/", "/telegram/", "/hooks/", "/sandbox-bank/")

PageHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:  # redirects and error pages get the headers too
        _harden(exc)
        raise
    _harden(response)
    return response


def _harden(response: web.StreamResponse) -> None:
    # No scripts at all, inline styles only: the pages need nothing else.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self' http: https:; "
        "frame-ancestors 'none'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")  # the callback URL carries the bank's code
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if response.content_type == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")  # pages hold bank data and tokens


@web.middleware
async def sign_in_and_csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find the signed-in viewer, check the CSRF token of every panel POST, and give new browsers a CSRF cookie."""
    token = request.cookies.get(SESSION_COOKIE, "")
    found: Viewer | None = viewer_for(feeds(request).engine, token, now=feeds(request).clock()) if token else None
    request[VIEWER] = found
    browser_key = request.cookies.get(CSRF_COOKIE, "")
    new_key = "" if browser_key else secrets.token_urlsafe(24)
    request[CSRF] = csrf_token(browser_key or new_key)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.path.startswith(EXTERNAL_PREFIXES):
        sent = str((await request.post()).get(CSRF_FIELD, "")) or request.headers.get("X-CSRF-Token", "")
        if not browser_key or not hmac.compare_digest(sent, request[CSRF]):
            return render(request, "message.html", status=403, ok=False, title="Form refused",
                          message="This form has expired or did not come from this reconbot page. Reload the page "
                                  "and send it again.")  # fmt: skip
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if new_key:
            set_csrf_cookie(request, exc, new_key)
        raise
    if new_key:
        set_csrf_cookie(request, response, new_key)
    return response


def csrf_token(browser_key: str) -> str:
    """Return the form token that belongs to the browser's CSRF cookie."""
    return hmac.new(derived_key("csrf"), browser_key.encode(), hashlib.sha256).hexdigest()


def secure_cookies(request: web.Request) -> bool:
    """Return True when browsers reach reconbot over TLS (directly or through a proxy named in the public URL)."""
    return request.secure or feeds(request).public_url.startswith("https://")


def set_csrf_cookie(request: web.Request, response: web.StreamResponse, browser_key: str) -> None:
    response.set_cookie(CSRF_COOKIE, browser_key, httponly=True, samesite="Strict", secure=secure_cookies(request),
                        path="/")  # fmt: skip


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """Give the browser its session, and a fresh CSRF key with it (a key planted before sign-in must not last)."""
    secure = secure_cookies(request)
    # Lax, not Strict: a link from Slack or e-mail to a panel page must arrive signed in.
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", secure=secure, path="/",
                        max_age=14 * 24 * 3600)  # fmt: skip
    set_csrf_cookie(request, response, secrets.token_urlsafe(24))


def requires(roles: Iterable[Role] | None = None) -> Callable[[PageHandler], PageHandler]:
    """Return a decorator that lets only signed-in viewers (with one of ``roles``, when given) reach a page.

    Others are sent to sign in, or shown a 403 page that says which roles may see it.
    """
    allowed = frozenset(roles) if roles is not None else None

    def decorate(handler: PageHandler) -> PageHandler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            who = request.get(VIEWER)
            if who is None:
                if request.method == "GET":
                    raise web.HTTPFound(
                        "/login?" + urlencode({"next": request.path_qs}) if request.path != "/" else "/login"
                    )
                raise web.HTTPForbidden(text="Sign in first.")
            if allowed is not None and who.role not in allowed:
                names = ", ".join(sorted(r.value.replace("_", " ") for r in allowed))
                yours = who.role.value.replace("_", " ")
                return render(request, "message.html", status=403, ok=False, title="Not for your role",
                              message=f"This page is for {names}; you are {yours}.")  # fmt: skip
            return await handler(request)

        return guarded

    return decorate
