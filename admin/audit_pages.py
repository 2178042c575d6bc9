"""The audit log page: who did what, newest first, filtered by action, actor and day, paged by keyset."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from aiohttp import web

from reconbot.admin.rendering import feeds, form_error, render, viewer
from reconbot.admin.security import requires
from reconbot.core.roles import SETUP_ROLES
from reconbot.core.services.status.audit_log import AuditFilter, audit_page


@requires(SETUP_ROLES)
async def audit_log(request: web.Request) -> web.StreamResponse:
    """Return a page of the viewer's workspace's audit events; 400 for a bad date or page cursor."""
    query = request.query
    try:
        wanted = AuditFilter(
            action=query.get("action", "").strip()[:100],
            actor=query.get("actor", "").strip()[:100],
            since=_day(query.get("since", ""), "From"),
            until=_day(query.get("until", ""), "To"),
        )
        page = audit_page(feeds(request).engine, viewer(request).workspace_id, wanted, cursor=query.get("after"))
    except ValueError as exc:
        return form_error(request, str(exc))
    filters = {k: v for k, v in (("action", wanted.action), ("actor", wanted.actor),
                                 ("since", query.get("since", "").strip()),
                                 ("until", query.get("until", "").strip())) if v}  # fmt: skip
    older = "/audit?" + urlencode({**filters, "after": page.next_cursor}) if page.next_cursor else None
    newest = "/audit?" + urlencode(filters) if query.get("after") else None
    return render(request, "audit.html", page=page, wanted=wanted, filters=filters, older=older, newest=newest)


def _day(value: str, label: str) -> date | None:
    """Return the day a date field names (None when empty); raises ValueError saying which field is wrong."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{label}: {value[:20]!r} is not a date like 2026-03-02.") from None


def register(app: web.Application) -> None:
    app.router.add_get("/audit", audit_log)
