"""The bank's redirect back to reconbot after a consent, and the sandbox bank's own consent page."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlmodel import Session

from admin.rendering import feeds, render
from core.banks import sandbox
from core.banks.errors import ConsentRefusedError, ProviderError
from core.errors import ReconciliationError
from core.persistence.tables import WorkspaceRecord
from core.services.bank_connections import complete_consent
from core.services.bank_providers import CALLBACK_PATH

log = logging.getLogger("reconbot.web")


def register(app: web.Application) -> None:
    app.router.add_get(CALLBACK_PATH, bank_callback)
    app.router.add_get(sandbox.AUTHORIZE_PATH, sandbox_consent_page)
    app.router.add_post(sandbox.AUTHORIZE_PATH, sandbox_decision)


async def bank_callback(request: web.Request) -> web.Response:
    """Complete the consent named by ``state`` and tell the owner how it went (reloading is harmless)."""
    state = request.query.get("state", "")
    bank_feeds = feeds(request)
    try:
        if not state:
            raise ReconciliationError("the bank sent you back without the state reconbot gave it; start again")
        done = await complete_consent(bank_feeds, state, dict(request.query))
    except ConsentRefusedError as exc:
        return render(request, "bank_callback.html", ok=False, message=str(exc))
    except (ReconciliationError, ProviderError) as exc:
        log.warning("bank callback failed: %s", exc)
        return render(request, "bank_callback.html", status=400, ok=False, message=str(exc))
    with Session(bank_feeds.engine) as session:
        workspace = session.get(WorkspaceRecord, done.workspace_id)
        zone = ZoneInfo(workspace.timezone if workspace else "UTC")
    return render(
        request,
        "bank_callback.html",
        ok=True,
        bank=done.institution_name,
        accounts=done.accounts,
        renewed=done.renewed,
        valid_until=done.valid_until.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
    )


async def sandbox_consent_page(request: web.Request) -> web.Response:
    """Show the sandbox bank's Approve / Refuse page for a pending sandbox consent."""
    reference, state, redirect_url = (request.query.get(k, "") for k in ("reference", "state", "redirect_url"))
    _check_redirect(request, redirect_url)
    try:
        pending = sandbox.authorisation(reference)
    except ProviderError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return render(
        request,
        "sandbox_bank.html",
        bank=pending.institution.name,
        days=pending.consent_days,
        reference=reference,
        state=state,
        redirect_url=redirect_url,
        action=sandbox.AUTHORIZE_PATH,
    )


async def sandbox_decision(request: web.Request) -> web.Response:
    """Send the browser back to reconbot's callback with the sandbox bank's answer."""
    form = await request.post()
    reference, state, redirect_url = (str(form.get(k, "")) for k in ("reference", "state", "redirect_url"))
    _check_redirect(request, redirect_url)
    try:
        sandbox.authorisation(reference)
    except ProviderError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    approved = form.get("decision") == "approve"
    raise web.HTTPSeeOther(sandbox.consent_redirect(redirect_url, state, reference, approved))


def _check_redirect(request: web.Request, redirect_url: str) -> None:
    # Only our own callback: anything else would make this page an open redirect.
    if redirect_url != feeds(request).callback_url:
        raise web.HTTPBadRequest(text="This consent request does not come from this reconbot; start again.")
