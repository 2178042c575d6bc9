"""Bank connections: the list, provider credentials, connecting a bank (and the sandbox bank for a first try),
renew / disconnect / sync now, the bank's redirect back to reconbot, and the sandbox bank's own consent page."""

from __future__ import annotations

import logging

from aiohttp import web

from reconbot.admin.rendering import VIEWER, feeds, form_error, now, redirect_with, render, viewer
from reconbot.admin.security import requires
from reconbot.core.banks import sandbox
from reconbot.core.banks.errors import ConsentRefusedError, ProviderError
from reconbot.core.banks.provider import PROVIDERS
from reconbot.core.errors import ReconciliationError
from reconbot.core.roles import BANK_DATA_ROLES, SETUP_ROLES
from reconbot.core.services.banks.connections import complete_consent, connect_bank, disconnect, renew_connection
from reconbot.core.services.banks.overview import connection_of, connection_views, stored_credentials
from reconbot.core.services.banks.providers import CALLBACK_PATH, save_credentials
from reconbot.core.services.banks.sync import ConnectionSync
from reconbot.core.services.invoicing.samples import add_sample_invoices
from reconbot.core.services.jobs.scheduler import summary, sync_now
from reconbot.core.services.people.sessions import Viewer
from reconbot.core.services.workspaces import workspace

log = logging.getLogger(__name__)

# How far back the sandbox's first sync reaches: the sample invoices are paid over the last weeks.
SANDBOX_HISTORY_DAYS = 60
MAX_KEY_BYTES = 64 * 1024  # a PEM private key is a few kilobytes


def register(app: web.Application) -> None:
    app.router.add_get("/bank", bank_page)
    app.router.add_post("/bank/credentials", save_provider_credentials)
    app.router.add_get("/bank/add", choose_bank)
    app.router.add_post("/bank/connect", start_connection)
    app.router.add_post("/bank/sandbox", try_sandbox)
    app.router.add_post(r"/bank/{connection_id:\d{1,18}}/renew", renew)
    app.router.add_post(r"/bank/{connection_id:\d{1,18}}/disconnect", disconnect_connection)
    app.router.add_post(r"/bank/{connection_id:\d{1,18}}/sync", sync_connection_now)
    app.router.add_get(CALLBACK_PATH, bank_callback)
    app.router.add_get(sandbox.AUTHORIZE_PATH, sandbox_consent_page)
    app.router.add_post(sandbox.AUTHORIZE_PATH, sandbox_decision)


@requires(BANK_DATA_ROLES)
async def bank_page(request: web.Request) -> web.Response:
    """List the workspace's connections; people who set up also get credentials and the connect forms."""
    who = viewer(request)
    engine = feeds(request).engine
    settings = workspace(engine, who.workspace_id)
    return render(
        request,
        "bank.html",
        connections=connection_views(engine, who.workspace_id, now(request)),
        credentials=stored_credentials(engine, who.workspace_id) if who.role in SETUP_ROLES else [],
        sets_up=who.role in SETUP_ROLES,
        providers=list(PROVIDERS),
        country=settings.country,
        when=lambda moment: moment.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M") if moment else "never",
    )


@requires(SETUP_ROLES)
async def save_provider_credentials(request: web.Request) -> web.Response:
    """Store a provider's credentials, sealed; the page never shows them again except masked."""
    who = viewer(request)
    form = await request.post()
    provider = str(form.get("provider", ""))
    values: dict[str, str] = {}
    if provider == "enable-banking":
        key = form.get("private_key_file")
        pem = str(form.get("private_key", "")).strip()
        if isinstance(key, web.FileField) and key.filename:
            data = key.file.read(MAX_KEY_BYTES + 1)
            if len(data) > MAX_KEY_BYTES:
                return form_error(request, "That file is too large to be a private key; choose the PEM file.")
            pem = data.decode("utf-8", errors="replace").strip()
        values = {"application_id": str(form.get("application_id", "")).strip(), "private_key": pem}
    elif provider == "gocardless":
        values = {"secret_id": str(form.get("secret_id", "")).strip(),
                  "secret_key": str(form.get("secret_key", "")).strip()}  # fmt: skip
    else:
        return form_error(request, "Choose Enable Banking or GoCardless.")
    base_url = str(form.get("base_url", "")).strip()
    if base_url:
        values["base_url"] = base_url
    try:
        save_credentials(feeds(request).engine, who.workspace_id, provider, values, actor=who.actor)
    except ProviderError as exc:
        return form_error(request, str(exc))
    raise redirect_with(request, "/bank", f"{provider}: credentials saved (encrypted).")


@requires(SETUP_ROLES)
async def choose_bank(request: web.Request) -> web.Response:
    """List the banks a provider can connect in a country, to choose one."""
    who = viewer(request)
    provider_name = request.query.get("provider", "")
    if provider_name not in PROVIDERS:
        return form_error(request, f"Choose a provider: {', '.join(PROVIDERS)}.")
    default_country = workspace(feeds(request).engine, who.workspace_id).country
    country = (request.query.get("country", "") or default_country).strip().upper()
    if len(country) != 2 or not country.isalpha():
        return form_error(request, f"{country!r} is not a two-letter country code like HU or PL.")
    try:
        provider = feeds(request).provider(who.workspace_id, provider_name)
        try:
            institutions = await provider.institutions(country)
        finally:
            await provider.aclose()
    except ProviderError as exc:
        return form_error(request, f"{provider_name}: {exc}")
    return render(request, "bank_add.html", provider=provider_name, country=country, institutions=institutions,
                  history_days=SANDBOX_HISTORY_DAYS if provider_name == "sandbox" else None)  # fmt: skip


@requires(SETUP_ROLES)
async def start_connection(request: web.Request) -> web.Response:
    """Start connecting the chosen bank and send the browser to the bank's consent page."""
    who = viewer(request)
    form = await request.post()
    provider, institution = str(form.get("provider", "")), str(form.get("institution", "")).strip()
    country = str(form.get("country", "")).strip().upper() or None
    if provider not in PROVIDERS or not institution:
        return form_error(request, "Choose a provider and a bank.")
    history = SANDBOX_HISTORY_DAYS if provider == "sandbox" else None
    try:
        link = await connect_bank(feeds(request), who.workspace_id, provider, institution, actor=who.actor,
                                  country=country, history_days=history)  # fmt: skip
    except (ProviderError, ReconciliationError) as exc:
        return form_error(request, str(exc))
    raise web.HTTPSeeOther(link.url)


@requires(SETUP_ROLES)
async def try_sandbox(request: web.Request) -> web.Response:
    """The newcomer's first try: sample invoices when there are none, then the sandbox bank's consent page."""
    who = viewer(request)
    bank_feeds = feeds(request)
    settings = workspace(bank_feeds.engine, who.workspace_id)
    polish = settings.country == "PL" or settings.currency == "PLN"
    add_sample_invoices(bank_feeds.engine, who.workspace_id, settings.today(now(request)), actor=who.actor)
    bank, country = ("Sandbox Bank PL", "PL") if polish else ("Sandbox Bank HU", "HU")
    try:
        link = await connect_bank(bank_feeds, who.workspace_id, "sandbox", bank, actor=who.actor, country=country,
                                  history_days=SANDBOX_HISTORY_DAYS)  # fmt: skip
    except (ProviderError, ReconciliationError) as exc:
        return form_error(request, str(exc))
    raise web.HTTPSeeOther(link.url)


def _own_connection(request: web.Request) -> int:
    """Return the connection id of the URL when it belongs to the viewer's workspace; 404 otherwise."""
    connection_id = int(request.match_info["connection_id"])
    if connection_of(feeds(request).engine, viewer(request).workspace_id, connection_id) is None:
        raise web.HTTPNotFound(text="There is no such bank connection.")
    return connection_id


@requires(SETUP_ROLES)
async def renew(request: web.Request) -> web.Response:
    """Send the browser to the bank's page that renews the connection's consent."""
    connection_id = _own_connection(request)
    try:
        link = await renew_connection(feeds(request), connection_id, actor=viewer(request).actor)
    except (ProviderError, ReconciliationError) as exc:
        return form_error(request, str(exc))
    raise web.HTTPSeeOther(link.url)


@requires(SETUP_ROLES)
async def disconnect_connection(request: web.Request) -> web.Response:
    """Stop syncing the connection; its transactions stay."""
    connection_id = _own_connection(request)
    disconnect(feeds(request), connection_id, actor=viewer(request).actor)
    raise redirect_with(request, "/bank", "Disconnected; its accounts and transactions are kept.")


@requires(SETUP_ROLES)
async def sync_connection_now(request: web.Request) -> web.Response:
    """Sync the connection now and say what it brought."""
    connection_id = _own_connection(request)
    try:
        result = await sync_now(feeds(request), connection_id, actor=viewer(request).actor)
    except (ProviderError, ReconciliationError) as exc:
        return form_error(request, str(exc))
    back = "/bank" if request.query.get("back") != "workbench" else "/workbench"
    raise redirect_with(request, back, sync_message(result))


def sync_message(result: ConnectionSync | None) -> str:
    """Return one line describing a sync a person asked for."""
    if result is None:
        return "Already synced or syncing (asked within the last minute)."
    m = result.matching
    return f"Synced: {summary(result)}; matched {m.matched}, suggested {m.suggested}, unmatched {m.unmatched}."


async def bank_callback(request: web.Request) -> web.Response:
    """Complete the consent named by ``state`` and tell the owner how it went (reloading is harmless).

    A newly connected sandbox bank is synced at once, so a first try shows matches right away.
    """
    state = request.query.get("state", "")
    bank_feeds = feeds(request)
    who: Viewer | None = request.get(VIEWER)
    try:
        if not state:
            raise ReconciliationError("the bank sent you back without the state reconbot gave it; start again")
        done = await complete_consent(bank_feeds, state, dict(request.query))
    except ConsentRefusedError as exc:
        return render(request, "bank_callback.html", ok=False, message=str(exc), signed_in=who is not None)
    except (ReconciliationError, ProviderError) as exc:
        log.warning("bank callback failed: %s", exc)
        return render(request, "bank_callback.html", status=400, ok=False, message=str(exc),
                      signed_in=who is not None)  # fmt: skip
    synced = ""
    mine = who is not None and who.workspace_id == done.workspace_id
    connection = connection_of(bank_feeds.engine, done.workspace_id, done.connection_id)
    # Someone trying reconbot in the panel sees the sandbox's matches at once; other callers (the CLI's
    # wait, the bank tests' plain browser) leave the first sync to the schedule or `bank sync`.
    sandbox_first = connection is not None and connection.provider == "sandbox" and not connection.ever_synced
    if mine and who is not None and sandbox_first:
        try:
            synced = sync_message(await sync_now(bank_feeds, done.connection_id, actor=who.actor))
        except (ProviderError, ReconciliationError) as exc:
            synced = f"The first sync failed: {exc}"
    zone = workspace(bank_feeds.engine, done.workspace_id).zone
    return render(
        request,
        "bank_callback.html",
        ok=True,
        bank=done.institution_name,
        accounts=done.accounts,
        renewed=done.renewed,
        valid_until=done.valid_until.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        signed_in=mine,
        may_sync=mine and who is not None and who.role in SETUP_ROLES and not synced,
        connection_id=done.connection_id,
        synced=synced,
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
