"""Invoice search (every member: invoicing roles work with invoices) and one invoice, with the payments that
settled it for the roles that may see bank data."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from reconbot.admin.rendering import feeds, form_error, render, viewer
from reconbot.admin.security import requires
from reconbot.core.domain import Direction, InvoiceStatus
from reconbot.core.errors import InputError
from reconbot.core.roles import sees_bank_data
from reconbot.core.services.invoicing import search as invoice_search
from reconbot.core.services.invoicing.search import InvoiceFilter


def register(app: web.Application) -> None:
    app.router.add_get("/invoices", invoices)
    app.router.add_get(r"/invoices/{id:\d{1,18}}", invoice)


INVOICE_STATUSES = {"open": (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID), "paid": (InvoiceStatus.PAID,),
                    "cancelled": (InvoiceStatus.CANCELLED,), "": ()}  # fmt: skip


@requires(None)
async def invoices(request: web.Request) -> web.Response:
    """Invoice search by number, partner, tax id or amount, newest first, one page at a time."""
    who, q = viewer(request), request.query
    status, direction = q.get("status", ""), q.get("direction", "")
    if status not in INVOICE_STATUSES or direction not in ("", *Direction):
        return form_error(request, "Choose a status and a direction from the lists.")
    where = InvoiceFilter(q.get("q", "")[:200], INVOICE_STATUSES[status], Direction(direction) if direction else None)
    try:
        page = invoice_search.search_invoices(feeds(request).engine, who.workspace_id, where, after=q.get("after", ""))
    except InputError as exc:
        return form_error(request, str(exc))
    values = {"q": q.get("q", ""), "status": status, "direction": direction}
    kept = {k: v for k, v in values.items() if v}
    next_link = "?" + urlencode({**kept, "after": page.next_cursor}) if page.next_cursor else None
    first_link = "?" + urlencode(kept) if q.get("after") else None
    return render(request, "invoices.html", page=page, filters=values, next_link=next_link, first_link=first_link)


@requires(None)
async def invoice(request: web.Request) -> web.Response:
    """One invoice: its amounts and status, and (for bank-data roles) the transactions that paid it."""
    who = viewer(request)
    detail = invoice_search.invoice_detail(feeds(request).engine, who.workspace_id, int(request.match_info["id"]),
                                      bank_data=sees_bank_data(who.role))  # fmt: skip
    if detail is None:
        return form_error(request, "There is no such invoice in this workspace.", status=404, title="Not found")
    return render(request, "invoices_detail.html", detail=detail)
