"""Accountant handoff: where documents go (receivers, owner/admin), the one-time backfill, and each invoice's
state — not sent, waiting, sent — with "Mark for sending" for the roles that do invoicing."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from reconbot.admin.rendering import feeds, now, redirect_with, render, viewer
from reconbot.admin.security import requires
from reconbot.core.domain import Direction
from reconbot.core.errors import InputError, ReconciliationError, SetupError
from reconbot.core.persistence.handoff_tables import ItemState
from reconbot.core.roles import INVOICING_ROLES, SETUP_ROLES, Role, sees_bank_data
from reconbot.core.services.handoff import marking as handoff_marking
from reconbot.core.services.handoff import setup as handoff_setup
from reconbot.core.services.handoff.sending import send_due
from reconbot.core.services.invoicing.search import InvoiceFilter, search_invoices

# The accountant receives what is handed over, so accountants may watch it too; operators have no part in it.
HANDOFF_ROLES = SETUP_ROLES | INVOICING_ROLES | {Role.ACCOUNTANT}
# The form of each kind of receiver: (field, label, is a secret).
FIELDS = {
    "webhook": (("url", "Address (https://…)", False), ("secret", "Signing secret (agreed with the receiver)", True)),
    "email": (("host", "SMTP server", False), ("port", "Port", False), ("user", "User", False),
              ("password", "Password", True), ("sender", "From", False), ("to", "The accountant's address", False),
              ("starttls", "STARTTLS (yes/no)", False)),
    "folder": (("path", "Folder on this server", False),),
}  # fmt: skip


def register(app: web.Application) -> None:
    app.router.add_get("/handoff", handoff_page)
    app.router.add_post("/handoff/{kind:webhook|email|folder}", save_receiver)
    app.router.add_post("/handoff/{kind:webhook|email|folder}/remove", remove_receiver)
    app.router.add_post("/handoff/backfill", backfill)
    app.router.add_post("/handoff/mark", mark)
    app.router.add_post(r"/handoff/items/{id:\d{1,18}}/again", send_again)
    app.router.add_post("/handoff/send", send_now)


def _page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    who = viewer(request)
    engine = feeds(request).engine
    receivers = {r.kind.value: r for r in handoff_setup.list_receivers(engine, who.workspace_id)}
    try:
        page = search_invoices(engine, who.workspace_id, InvoiceFilter(direction=Direction.ISSUED),
                               after=request.query.get("after", ""))  # fmt: skip
    except InputError:
        raise web.HTTPBadRequest(text="That page link is broken; start from the first page.") from None
    states = handoff_marking.document_states(engine, who.workspace_id, [row.id for row in page.rows])
    failed = handoff_marking.list_items(engine, who.workspace_id, states=[ItemState.FAILED], limit=50)
    return render(request, "handoff.html", status=status, error=error, receivers=receivers, fields=FIELDS,
                  page=page, states=states, failed=failed, sets_up=who.role in SETUP_ROLES,
                  bank_data=sees_bank_data(who.role),
                  marks=who.role in INVOICING_ROLES)  # fmt: skip


@requires(HANDOFF_ROLES)
async def handoff_page(request: web.Request) -> web.Response:
    """The receivers, the backfill, and the newest issued invoices with their handoff state."""
    return _page(request)


@requires(SETUP_ROLES)
async def save_receiver(request: web.Request) -> web.Response:
    """Set up or change a receiver; a blank field keeps what is stored."""
    kind = request.match_info["kind"]
    form = await request.post()
    settings = {name: str(form.get(name, "")) for name, _, _ in FIELDS[kind]}
    try:
        interval = int(str(form.get("interval", "30")) or "30")
    except ValueError:
        return _page(request, error="The interval is a whole number of minutes.", status=400)
    try:
        handoff_setup.setup_receiver(feeds(request).engine, viewer(request).workspace_id, kind, settings,
                                     actor=viewer(request).actor, now=now(request), auto_mode=form.get("auto") == "on",
                                     interval_minutes=interval)  # fmt: skip
    except SetupError as exc:
        return _page(request, error=f"Not saved: {exc}.", status=400)
    raise redirect_with(request, "/handoff", f"The {kind} receiver is saved.")


@requires(SETUP_ROLES)
async def remove_receiver(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    try:
        handoff_setup.remove_receiver(feeds(request).engine, viewer(request).workspace_id, kind,
                                      actor=viewer(request).actor, now=now(request))  # fmt: skip
    except SetupError as exc:
        return _page(request, error=f"Not removed: {exc}.", status=400)
    raise redirect_with(request, "/handoff", f"Documents no longer go to the {kind} receiver.")


@requires(SETUP_ROLES)
async def backfill(request: web.Request) -> web.Response:
    """Mark every issued invoice from a chosen day, once (the page then shows that it was used)."""
    form = await request.post()
    try:
        start = date.fromisoformat(str(form.get("from", "")))
    except ValueError:
        return _page(request, error="Choose the day the backfill starts from.", status=400)
    try:
        marked = handoff_setup.backfill(feeds(request).engine, viewer(request).workspace_id, start,
                                        actor=viewer(request).actor, now=now(request))  # fmt: skip
    except SetupError as exc:
        return _page(request, error=f"Not done: {exc}.", status=400)
    raise redirect_with(request, "/handoff", f"{marked} documents from {start:%Y-%m-%d} are waiting to be sent.")


@requires(INVOICING_ROLES)
async def mark(request: web.Request) -> web.Response:
    """Mark one invoice (manual mode, or again after a failure) for the next sending."""
    form = await request.post()
    try:
        invoice_id = int(str(form.get("invoice", "")))
        if not 0 < invoice_id < 2**63:
            raise ValueError
        handoff_marking.mark_invoices(feeds(request).engine, viewer(request).workspace_id, [invoice_id],
                                      actor=viewer(request).actor, now=now(request))  # fmt: skip
    except ValueError:
        return _page(request, error="Choose an invoice from the list.", status=400)
    except (SetupError, ReconciliationError) as exc:
        return _page(request, error=f"Not marked: {exc}.", status=400)
    raise redirect_with(request, "/handoff", "Marked; it goes with the next sending.")


@requires(INVOICING_ROLES)
async def send_again(request: web.Request) -> web.Response:
    """Give a failed document (an invoice or a payment) a fresh round of attempts."""
    try:
        item_id = int(request.match_info["id"])
        handoff_marking.mark_item_again(feeds(request).engine, viewer(request).workspace_id, item_id,
                                        actor=viewer(request).actor, now=now(request))  # fmt: skip
    except ReconciliationError as exc:
        return _page(request, error=f"Not marked: {exc}.", status=400)
    raise redirect_with(request, "/handoff", "Marked again; it goes with the next sending.")


@requires(SETUP_ROLES | INVOICING_ROLES)
async def send_now(request: web.Request) -> web.Response:
    """Send what is waiting now instead of at the receivers' next interval."""
    run = await send_due(feeds(request).engine, now(request), workspace_id=viewer(request).workspace_id, force=True)
    told = f"Sent {run.sent}; {run.retrying} to retry; {run.failed} failed."
    raise redirect_with(request, "/handoff", told + (f" {run.errors[0]}" if run.errors else ""))
