"""Matching settings: automatic pairing, the sync schedule, consent reminder days and the first sync's history."""

from __future__ import annotations

from aiohttp import web

from reconbot.admin.rendering import feeds, redirect_with, render, viewer
from reconbot.admin.security import requires
from reconbot.core.roles import SETUP_ROLES
from reconbot.core.services.reconciliation.settings import (
    matching_settings,
    parse_history_days,
    parse_tolerance_percent,
    update_matching_settings,
)


def register(app: web.Application) -> None:
    app.router.add_get("/settings", settings_page)
    app.router.add_post("/settings", save_settings)


@requires(SETUP_ROLES)
async def settings_page(request: web.Request) -> web.Response:
    """Show the workspace's matching settings in one form."""
    who = viewer(request)
    settings = matching_settings(feeds(request).engine, who.workspace_id)
    return render(request, "settings.html", settings=settings, error="", form=None)


@requires(SETUP_ROLES)
async def save_settings(request: web.Request) -> web.Response:
    """Check and store the settings together; a bad one stores nothing and is named on the page (400)."""
    who = viewer(request)
    engine = feeds(request).engine
    form = await request.post()
    sent = {key: str(form.get(key, "")) for key in ("sync_times", "reminder_days", "history_days", "tolerance")}
    try:
        update_matching_settings(
            engine,
            who.workspace_id,
            actor=who.actor,
            auto_match=form.get("auto_match") == "on",
            schedule=sent["sync_times"],
            reminders=sent["reminder_days"],
            history_days=parse_history_days(sent["history_days"]),
            amount_tolerance=parse_tolerance_percent(sent["tolerance"]) if sent["tolerance"].strip() else None,
        )
    except ValueError as exc:
        settings = matching_settings(engine, who.workspace_id)
        return render(request, "settings.html", status=400, settings=settings, error=str(exc), form=sent)
    raise redirect_with(request, "/settings", "Matching settings saved.")
