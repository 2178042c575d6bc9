"""The invoice archive: search by anything on the invoice or inside its PDF, each invoice's versions with who
downloaded them, downloads (logged, checked against their hash), and approval of documents the rules hold back."""

from __future__ import annotations

from aiohttp import web

from reconbot.admin.rendering import feeds, form_error, now, redirect_with, render, viewer
from reconbot.admin.security import requires
from reconbot.core.archive.storage import StorageError, storage_from_settings
from reconbot.core.domain import InvoiceKind
from reconbot.core.errors import ReconciliationError
from reconbot.core.roles import INVOICING_ROLES, SETUP_ROLES, sees_bank_data
from reconbot.core.services.archive import access as archive_access
from reconbot.core.services.archive import filing as archive
from reconbot.core.services.archive import rules as archive_rules
from reconbot.core.services.archive import search as archive_search

APPROVERS = INVOICING_ROLES | SETUP_ROLES


def register(app: web.Application) -> None:
    app.router.add_get("/archive", archive_page)
    app.router.add_get(r"/archive/invoices/{id:\d{1,18}}", invoice_page)
    app.router.add_get(r"/archive/documents/{id:\d{1,18}}/pdf", download)
    app.router.add_post(r"/archive/documents/{id:\d{1,18}}/{decision:approve|reject}", decide)
    app.router.add_post("/archive/rules", save_rules)


@requires(None)
async def archive_page(request: web.Request) -> web.Response:
    """Search the archive; approvers also see what waits for their approval."""
    who = viewer(request)
    engine = feeds(request).engine
    query = request.query.get("q", "").strip()[:200]
    hits = archive_search.search(engine, who.workspace_id, query) if query else []
    waiting = archive.awaiting_approval(engine, who.workspace_id) if who.role in APPROVERS else []
    rules = archive_rules.archive_rules(engine, who.workspace_id) if who.role in SETUP_ROLES else None
    return render(request, "archive.html", query=query, hits=hits, waiting=waiting, rules=rules,
                  kinds=list(InvoiceKind), bank_data=sees_bank_data(who.role))  # fmt: skip


@requires(None)
async def invoice_page(request: web.Request) -> web.Response:
    """One invoice's PDF versions, oldest first, with each version's downloads for owners and admins."""
    who = viewer(request)
    engine = feeds(request).engine
    versions = archive.history(engine, who.workspace_id, int(request.match_info["id"]))
    if not versions:
        return form_error(request, "No PDF of this invoice is archived.", status=404, title="Not archived")
    log = ({v.id: archive_access.downloads(engine, who.workspace_id, v.id) for v in versions}
           if who.role in SETUP_ROLES else {})  # fmt: skip
    return render(request, "archive_invoice.html", versions=versions, downloads=log,
                  approves=who.role in APPROVERS)  # fmt: skip


@requires(None)
async def download(request: web.Request) -> web.StreamResponse:
    """Return the PDF (every download is logged); a file whose hash no longer matches is refused (409)."""
    who = viewer(request)
    document_id = int(request.match_info["id"])
    try:
        data = archive_access.download(feeds(request).engine, storage_from_settings(), who.workspace_id,
                                       document_id, actor=viewer(request).actor, now=now(request))  # fmt: skip
    except archive_access.ArchiveTamperedError as exc:
        return form_error(request, str(exc), status=409, title="The stored file was changed")
    except StorageError as exc:
        return form_error(request, str(exc), status=503, title="The archive cannot be read")
    except ReconciliationError as exc:
        return form_error(request, str(exc), status=404, title="Not found")
    return web.Response(body=data, content_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="invoice-{document_id}.pdf"',
                                 "Cache-Control": "no-store"})  # fmt: skip


@requires(SETUP_ROLES)
async def save_rules(request: web.Request) -> web.StreamResponse:
    """Choose the document kinds archived at once; the others wait for an invoicing member's approval."""
    form = await request.post()
    kinds = [str(k) for k in form.getall("auto", [])]
    try:
        archive_rules.set_archive_rules(feeds(request).engine, viewer(request).workspace_id, kinds,
                                        actor=viewer(request).actor, now=now(request))  # fmt: skip
    except ReconciliationError as exc:
        return form_error(request, str(exc))
    shown = ", ".join(k.replace("_", " ") for k in kinds) or "nothing"
    raise redirect_with(request, "/archive", f"Archived at once from now on: {shown}; the rest waits for approval.")


@requires(APPROVERS)
async def decide(request: web.Request) -> web.StreamResponse:
    """Approve (archive and make searchable) or reject a document the rules held back."""
    who = viewer(request)
    document_id, decision = int(request.match_info["id"]), request.match_info["decision"]
    act = archive.approve if decision == "approve" else archive.reject
    try:
        done = act(feeds(request).engine, who.workspace_id, document_id, actor=viewer(request).actor, now=now(request))
    except ReconciliationError as exc:
        return form_error(request, str(exc))
    raise redirect_with(
        request,
        f"/archive/invoices/{done.invoice_id}",
        f"Version {done.version} of {done.invoice_number} is {done.state.value.replace('_', ' ')}.",
    )
