"""Invoicing sources: credentials (shown masked), test connection, sync now, the auto-invoice and
final-invoice-from-proforma modes, and uploading an invoices CSV."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiohttp import web

from reconbot.admin.rendering import INVOICING_KEY, feeds, form_error, redirect_with, render, viewer
from reconbot.admin.security import requires
from reconbot.core.errors import InputError, ProviderError, ReconciliationError
from reconbot.core.invoicing.source import SOURCES
from reconbot.core.persistence.tables import InvoicingMode
from reconbot.core.roles import SETUP_ROLES
from reconbot.core.services.invoicing.imports import import_invoices
from reconbot.core.services.invoicing.overview import (
    LABELS,
    save_source_credentials,
    setup_fields,
    source_views,
    writes_waiting,
)
from reconbot.core.services.invoicing.sources import OWN, SOURCE_NAMES, update_settings
from reconbot.core.services.invoicing.sync import look_up_unknown_numbers, sync_source
from reconbot.core.services.workspaces import workspace

MAX_CSV_BYTES = 5 * 1024 * 1024


def register(app: web.Application) -> None:
    app.router.add_get("/invoicing", invoicing_page)
    app.router.add_post("/invoicing/settings", save_modes)
    app.router.add_post("/invoicing/upload", upload_invoices)
    app.router.add_post(r"/invoicing/{name:[a-z]+}/credentials", save_source)
    app.router.add_post(r"/invoicing/{name:[a-z]+}/check", check_source)
    app.router.add_post(r"/invoicing/{name:[a-z]+}/sync", sync_now)


def _system(request: web.Request) -> str:
    name = request.match_info["name"]
    if name not in SOURCE_NAMES:
        raise web.HTTPNotFound(text=f"reconbot knows no invoicing system {name!r}.")
    return name


@requires(SETUP_ROLES)
async def invoicing_page(request: web.Request) -> web.Response:
    """List the connected systems and the forms to connect or change one."""
    return _page(request)


def _page(request: web.Request, *, status: int = 200, shown_once: dict[str, str] | None = None) -> web.Response:
    who = viewer(request)
    engine = feeds(request).engine
    return render(
        request,
        "invoicing.html",
        status=status,
        sources=source_views(engine, who.workspace_id),
        systems=[(name, LABELS.get(name, name), setup_fields(name)) for name in SOURCE_NAMES],
        writes=writes_waiting(engine, who.workspace_id),
        workspace=workspace(engine, who.workspace_id),
        issuers=list(SOURCES),
        shown_once=shown_once,
    )


@requires(SETUP_ROLES)
async def save_source(request: web.Request) -> web.Response:
    """Store a system's credentials, sealed. An own system's webhook secret and Számlázz.hu's push address are
    made here and shown this once (the page is not cached); the other secrets are never shown again."""
    who = viewer(request)
    name = _system(request)
    form = await request.post()
    sent = {key: str(value) for key, value in form.items() if key != "csrf_token" and isinstance(value, str)}
    connected_before = any(s.name == name for s in source_views(feeds(request).engine, who.workspace_id))
    try:
        stored = save_source_credentials(feeds(request).engine, who.workspace_id, name, sent, actor=who.actor)
    except ProviderError as exc:
        return form_error(request, str(exc))
    slug = workspace(feeds(request).engine, who.workspace_id).slug
    base = feeds(request).public_url
    if name == OWN:
        return _page(request, shown_once={"title": "Own system connected",
                                          "Send signed events to": f"{base}/hooks/own/{slug}",
                                          "Webhook secret": stored["webhook_secret"]})  # fmt: skip
    if "push_token" in stored and not connected_before:
        return _page(request, shown_once={"title": f"{LABELS[name]} connected",
                                          "Data push address (Pénzügyi adatkapcsolat)":
                                              f"{base}/hooks/szamlazz/{slug}/{stored['push_token']}"})  # fmt: skip
    raise redirect_with(request, "/invoicing", f"{LABELS[name]}: credentials saved (encrypted).")


@requires(SETUP_ROLES)
async def check_source(request: web.Request) -> web.Response:
    """Make the system's one harmless authenticated call and say who answered."""
    who = viewer(request)
    name = _system(request)
    if name not in SOURCES:
        return form_error(request, "An own system has no API to call; it sends reconbot signed events.")
    try:
        client = request.app[INVOICING_KEY].source(who.workspace_id, name)
        try:
            answer = await client.check()
        finally:
            await client.aclose()
    except ProviderError as exc:
        return form_error(request, f"{LABELS[name]}: {exc}", title="Connection failed")
    raise redirect_with(request, "/invoicing", f"{LABELS[name]}: connection works ({answer}).")


@requires(SETUP_ROLES)
async def sync_now(request: web.Request) -> web.Response:
    """Pull the system's changed invoices now and match (Számlázz.hu: look up the numbers payments quote)."""
    who = viewer(request)
    name = _system(request)
    sources = request.app[INVOICING_KEY]
    if name not in SOURCES:
        return form_error(request, "An own system sends its invoices itself; there is nothing to pull.")
    try:
        if name == "szamlazz":
            found = await look_up_unknown_numbers(sources, who.workspace_id, name, actor=who.actor)
            message = f"{LABELS[name]}: {found} invoice(s) found by the numbers bank references quote."
        else:
            result = await sync_source(sources, who.workspace_id, name, actor=who.actor)
            stored, matched = result.received.stored, result.received.matching
            conflicts = "".join(f" {c}" for c in stored.conflicts)
            message = (
                f"{LABELS[name]}: {stored.new} new, {stored.updated} updated; {matched.matched} paired.{conflicts}"
            )
    except ProviderError as exc:
        return form_error(request, f"{LABELS[name]}: {exc}", title="Sync failed")
    raise redirect_with(request, "/invoicing", message)


@requires(SETUP_ROLES)
async def save_modes(request: web.Request) -> web.Response:
    """Change the auto-invoice and final-invoice modes and where sale invoices are issued."""
    who = viewer(request)
    form = await request.post()
    try:
        sale_mode = InvoicingMode(str(form.get("sale_mode", "")))
        proforma_mode = InvoicingMode(str(form.get("proforma_mode", "")))
    except ValueError:
        return form_error(request, "Choose auto or manual for both modes.")
    sale_source = str(form.get("sale_source", ""))
    try:
        update_settings(feeds(request).engine, who.workspace_id, actor=who.actor, sale_mode=sale_mode,
                        proforma_mode=proforma_mode, sale_source=sale_source)  # fmt: skip
    except (ProviderError, ReconciliationError) as exc:
        return form_error(request, str(exc))
    raise redirect_with(request, "/invoicing", "Invoicing settings saved.")


@requires(SETUP_ROLES)
async def upload_invoices(request: web.Request) -> web.Response:
    """Import an invoices CSV: all rows or, on any bad row, none (the one error names file, row and reason)."""
    who = viewer(request)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        return form_error(request, "Choose the invoices CSV file to upload.")
    data = upload.file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        return form_error(request, f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB; split it.")
    name = Path(upload.filename).name or "invoices.csv"
    with tempfile.TemporaryDirectory(prefix="reconbot-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            done = import_invoices(feeds(request).engine, who.workspace_id, path, actor=who.actor)
        except (InputError, ReconciliationError) as exc:
            return form_error(request, f"Nothing was imported. {exc}")
    m = done.matching
    raise redirect_with(request, "/invoicing", f"{done.filename}: {done.rows} invoices, {done.new} new, "
                        f"{done.updated} updated; matched {m.matched}, suggested {m.suggested}.")  # fmt: skip
