"""First run, signing in and out, accepting an invitation, and switching between one's workspaces."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from reconbot.admin.rendering import feeds, now, redirect_with, render, viewer
from reconbot.admin.security import SESSION_COOKIE, requires, set_session_cookie
from reconbot.core.errors import SetupError
from reconbot.core.persistence.tables import Language
from reconbot.core.services.people.invitations import accept_invite, invitation
from reconbot.core.services.people.sessions import close_session, memberships, open_session, switch_workspace
from reconbot.core.services.people.sign_in import LoginThrottled, authenticate, first_run, needs_first_run

log = logging.getLogger(__name__)

COUNTRIES = {"HU": ("Hungary", "HUF", "Europe/Budapest", "hu"), "PL": ("Poland", "PLN", "Europe/Warsaw", "pl")}
CURRENCIES = ("HUF", "PLN", "EUR")
TIMEZONES = ("Europe/Budapest", "Europe/Warsaw", "Europe/Vienna", "Europe/Berlin", "Europe/London", "UTC")


def register(app: web.Application) -> None:
    app.router.add_get("/setup", setup_page)
    app.router.add_post("/setup", setup_post)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout)
    app.router.add_get("/invite/{token}", invite_page)
    app.router.add_post("/invite/{token}", invite_post)
    app.router.add_post("/workspace", workspace_switch)


def _form_defaults() -> dict[str, Any]:
    return {"countries": COUNTRIES, "currencies": CURRENCIES, "timezones": TIMEZONES, "languages": list(Language)}


async def setup_page(request: web.Request) -> web.Response:
    """The first-run form; once an account exists it only points to sign-in."""
    if not needs_first_run(feeds(request).engine):
        raise web.HTTPFound("/login")
    return render(request, "setup.html", form={}, error="", **_form_defaults())


async def setup_post(request: web.Request) -> web.StreamResponse:
    """Create the owner and the workspace, sign the owner in, and go to the home page."""
    form = {k: str(v) for k, v in (await request.post()).items()}
    engine = feeds(request).engine
    if not needs_first_run(engine):
        raise web.HTTPFound("/login")
    try:
        timezone = form.get("timezone", "")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SetupError(f"{timezone!r} is not a time zone name such as Europe/Budapest") from None
        if form.get("password") != form.get("password_again"):
            raise SetupError("the two passwords differ")
        try:
            language = Language(form.get("language", ""))
        except ValueError:
            raise SetupError("choose a language") from None
        country, currency = form.get("country", "").strip().upper(), form.get("currency", "")
        if len(country) != 2 or not country.isalpha():
            raise SetupError("the country is a two-letter code such as HU or PL")
        if currency not in CURRENCIES:
            raise SetupError(f"choose one of {', '.join(CURRENCIES)} as the currency")
        account_id = first_run(
            engine, email=form.get("email", ""), password=form.get("password", ""),
            owner_name=form.get("owner_name", "").strip(), workspace_name=form.get("workspace_name", ""),
            country=country, timezone=timezone, currency=currency, language=language,
        )  # fmt: skip
    except SetupError as exc:
        form.pop("password", None), form.pop("password_again", None)
        return render(request, "setup.html", status=400, form=form, error=str(exc), **_form_defaults())
    log.info("first-run setup done: owner account %s", account_id)
    response = redirect_with(request, "/", "Welcome! Your workspace is ready. Connect a bank to begin.")
    set_session_cookie(request, response, open_session(engine, account_id, now=now(request)))
    raise response


async def login_page(request: web.Request) -> web.Response:
    if needs_first_run(feeds(request).engine):
        raise web.HTTPFound("/setup")
    return render(request, "login.html", email="", error="", next=_next(request.query.get("next", "")))


async def login_post(request: web.Request) -> web.StreamResponse:
    """Sign in: 429 while throttled, 401 for a wrong e-mail or password, else a session and the next page."""
    form = await request.post()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    target = _next(str(form.get("next", "")))
    engine = feeds(request).engine
    try:
        account_id = authenticate(engine, email, password, address=request.remote or "", now=now(request))
    except LoginThrottled as exc:
        log.warning("sign-in throttled for an e-mail or address (%s s left)", exc.retry_after)
        response = render(request, "login.html", status=429, email=email, error=str(exc).capitalize() + ".",
                          next=target)  # fmt: skip
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except SetupError:
        return render(request, "login.html", status=401, email=email, error="Wrong e-mail or password.", next=target)
    if not memberships(engine, account_id):
        return render(request, "login.html", status=403, email=email, next=target,
                      error="Your account is no longer a member of any workspace.")  # fmt: skip
    response = web.HTTPSeeOther(target)
    set_session_cookie(request, response, open_session(engine, account_id, now=now(request)))
    raise response


def _next(target: str) -> str:
    """Return ``target`` when it is a path of this site, else "/" (anything else makes sign-in an open redirect).

    Browsers drop tabs and newlines from addresses and read ``\\`` as ``/``, so any such character refuses it.
    """
    if any(ch in target for ch in "\\\t\r\n") or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        close_session(feeds(request).engine, token)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def invite_page(request: web.Request) -> web.Response:
    try:
        found = invitation(feeds(request).engine, request.match_info["token"], now=now(request))
    except SetupError as exc:
        return render(request, "message.html", status=404, ok=False, title="Invitation not valid", message=str(exc))
    return render(request, "invite.html", invitation=found, error="")


async def invite_post(request: web.Request) -> web.StreamResponse:
    """Accept an invitation: choose a password (or confirm an existing one) and arrive signed in."""
    token = request.match_info["token"]
    engine = feeds(request).engine
    form = await request.post()
    password = str(form.get("password", ""))
    try:
        found = invitation(engine, token, now=now(request))
        if not found.has_account and password != str(form.get("password_again", "")):
            raise SetupError("the two passwords differ")
        account_id = accept_invite(engine, token, password, now=now(request), address=request.remote or "")
    except SetupError as exc:
        try:
            found = invitation(engine, token, now=now(request))
        except SetupError:
            return render(request, "message.html", status=404, ok=False, title="Invitation not valid",
                          message=str(exc))  # fmt: skip
        return render(request, "invite.html", status=400, invitation=found, error=str(exc))
    response = redirect_with(request, "/", f"Welcome to {found.workspace_name}!")
    set_session_cookie(request, response, open_session(engine, account_id, now=now(request),
                                                       workspace_id=found.workspace_id))  # fmt: skip
    raise response


@requires()
async def workspace_switch(request: web.Request) -> web.StreamResponse:
    """Make another of the viewer's workspaces the current one."""
    viewer(request)
    form = await request.post()
    try:
        switch_workspace(feeds(request).engine, request.cookies.get(SESSION_COOKIE, ""),
                         int(str(form.get("workspace_id", "0"))))  # fmt: skip
    except (SetupError, ValueError):
        raise web.HTTPForbidden(text="You are not a member of that workspace.") from None
    raise web.HTTPSeeOther("/")
