"""The home page: where setup stands, what waits for a person, and the sandbox bank for a first try."""

from __future__ import annotations

from aiohttp import web

from reconbot.admin.rendering import VIEWER, feeds, render, viewer
from reconbot.core.roles import SETUP_ROLES, sees_bank_data
from reconbot.core.services.people.sessions import memberships
from reconbot.core.services.people.sign_in import needs_first_run
from reconbot.core.services.status.progress import setup_progress


def register(app: web.Application) -> None:
    app.router.add_get("/", home)


async def home(request: web.Request) -> web.Response:
    """Send strangers to first-run setup or sign-in; show members their workspace's state."""
    if request.get(VIEWER) is None:
        raise web.HTTPFound("/setup" if needs_first_run(feeds(request).engine) else "/login")
    who = viewer(request)
    engine = feeds(request).engine
    return render(
        request,
        "home.html",
        progress=setup_progress(engine, who.workspace_id),
        bank_data=sees_bank_data(who.role),
        sets_up=who.role in SETUP_ROLES,
        workspaces=memberships(engine, who.account_id),
    )
