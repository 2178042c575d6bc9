"""The status page: is the scheduler running and when does it run next, how the syncs went, consents' end
dates, and the chat, write-back and outbox queues. Any member may look; bank parts only for bank roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from reconbot.admin.rendering import feeds, now, render, viewer
from reconbot.admin.security import requires
from reconbot.core.roles import sees_bank_data
from reconbot.core.services.jobs.scheduler import FeedScheduler
from reconbot.core.services.status.overview import (
    last_consent_check,
    local,
    scheduled_jobs,
    scheduler_lock_held,
    workspace_status,
)


@dataclass
class RunningScheduler:
    """The scheduler this process runs, if it does: ``reconbot serve`` sets ``scheduler`` once it holds the lock
    (and back to None when it stops), so the status page can list the jobs' next runs."""

    scheduler: FeedScheduler | None = None


RUNNING_SCHEDULER_KEY = web.AppKey("running_scheduler", RunningScheduler)


@requires(None)
async def status_page(request: web.Request) -> web.StreamResponse:
    """Return the workspace's status page; accounts, consents and sync outcomes only for bank roles."""
    who = viewer(request)
    engine = feeds(request).engine
    moment = now(request)
    bank = sees_bank_data(who.role)
    found = workspace_status(engine, who.workspace_id, moment, bank_data=bank)
    timezone = found.timezone
    running = request.app[RUNNING_SCHEDULER_KEY].scheduler
    jobs = scheduled_jobs(running, who.workspace_id) if running is not None else []
    held = True if running is not None else scheduler_lock_held(engine)

    def when(moment_: datetime | None) -> str:
        return local(moment_, timezone) or "never"

    def age(since: datetime | None) -> str:
        if since is None:
            return ""
        minutes = int((moment - since).total_seconds() // 60)
        return (
            f"{minutes // 1440} d {minutes % 1440 // 60} h"
            if minutes >= 1440
            else f"{minutes // 60} h {minutes % 60} min"
        )

    consent_check = last_consent_check(engine) if bank else None  # it counts every workspace's bank consents
    return render(request, "status.html", status=200, found=found, bank=bank, jobs=jobs, held=held,
                  in_process=running is not None, consent_check=consent_check, when=when, age=age,
                  timezone=timezone)  # fmt: skip


def register(app: web.Application) -> None:
    app[RUNNING_SCHEDULER_KEY] = RunningScheduler()
    app.router.add_get("/status", status_page)
