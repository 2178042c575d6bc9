"""``reconbot run``: one process serving the web endpoints and chat bots, and running the scheduler.

Several processes may run (more web capacity on PostgreSQL); only the one holding the
``SchedulerLock`` schedules, and the others keep trying, so one takes over if it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from aiohttp import web

from reconbot.admin.app import create_app
from reconbot.admin.status_pages import RUNNING_SCHEDULER_KEY
from reconbot.bot.runtime import ChatRuntime
from reconbot.cli.books import open_books
from reconbot.core.persistence.bank_tables import ConsentAttemptStatus
from reconbot.core.services.banks.connections import consent_attempt
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.jobs.scheduler import FeedScheduler, SchedulerLock
from reconbot.core.services.people.sign_in import needs_first_run
from reconbot.core.settings import listen_address

log = logging.getLogger("reconbot")

# How often a process without the scheduler checks whether it may take it over.
LOCK_RETRY_SECONDS = 60.0


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; return the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Their INFO lines (each migration step, each job added) would bury the one line a newcomer needs.
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    with open_books() as engine:
        feeds = BankFeeds(engine)
        host, port = listen_address()
        try:
            asyncio.run(_serve_until_signalled(feeds, host, port))
        except OSError as exc:
            print(f"reconbot: cannot listen on {host}:{port}: {exc.strerror}; set RECONBOT_LISTEN=host:port")
            return 1
    return 0


async def _serve_until_signalled(feeds: BankFeeds, host: str, port: int) -> None:
    # Ctrl-C and `docker stop` (SIGTERM) are how a server is stopped: finish cleanly, exit 0.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(feeds, host, port, stop=stop)
    print("reconbot stopped.", flush=True)


async def serve(feeds: BankFeeds, host: str, port: int, *, stop: asyncio.Event | None = None) -> None:
    """Serve the web application, the chat bots and their delivery, and run the scheduler (when this process
    holds its lock) until ``stop``."""
    chat = ChatRuntime(feeds.engine, feeds=feeds, public_url=feeds.public_url)
    app = create_app(feeds, chat_reload=chat.reload_soon)
    chat.mount(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("serving on http://%s:%s (public address %s)", host, port, feeds.public_url)
    if needs_first_run(feeds.engine):
        print(f"reconbot is running. Open {feeds.public_url}/ in your browser to set it up.", flush=True)
    else:
        print(f"reconbot is running: {feeds.public_url}/ (Ctrl-C stops it)", flush=True)
    await chat.start()
    lock = SchedulerLock(feeds)
    scheduler: FeedScheduler | None = None
    try:
        while stop is None or not stop.is_set():
            if scheduler is None and lock.acquire():
                scheduler = FeedScheduler.create(feeds)
                scheduler.start()
                app[RUNNING_SCHEDULER_KEY].scheduler = scheduler  # the status page lists its jobs
                log.info("this process runs the scheduler")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for((stop or asyncio.Event()).wait(), LOCK_RETRY_SECONDS)
    finally:
        if scheduler is not None:
            app[RUNNING_SCHEDULER_KEY].scheduler = None
            scheduler.shutdown()
        lock.release()
        await chat.stop()
        await runner.cleanup()


@dataclass(frozen=True, slots=True)
class ConsentOutcome:
    granted: bool
    message: str


async def wait_for_consent(feeds: BankFeeds, state: str, *, timeout: float = 15 * 60) -> ConsentOutcome:
    """Wait until the consent ``state`` is granted or refused; return how it ended.

    Serves the callback itself when nothing else listens on the address (the usual
    case from the command line); when ``reconbot run`` already serves it, watches the
    database for its result instead.
    """
    host, port = listen_address()
    runner: web.AppRunner | None = web.AppRunner(create_app(feeds), access_log=None)
    assert runner is not None
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()  # someone (reconbot run) already serves the callback
        runner = None
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            outcome = _consent_outcome(feeds, state)
            if outcome is not None:
                return outcome
            await asyncio.sleep(0.5)
        return ConsentOutcome(False, "Gave up waiting; run `reconbot bank finish '<address>'` with where the bank "
                                     "sent you, or connect again.")  # fmt: skip
    finally:
        if runner is not None:
            await runner.cleanup()


def _consent_outcome(feeds: BankFeeds, state: str) -> ConsentOutcome | None:
    """Return how the consent ``state`` ended, or None while the owner has not answered."""
    attempt = consent_attempt(feeds.engine, state)
    if attempt is None or attempt.status is ConsentAttemptStatus.PENDING:
        return None
    if attempt.status is ConsentAttemptStatus.REFUSED:
        return ConsentOutcome(False, f"Not connected: {attempt.error}")
    assert attempt.valid_until is not None  # granted: the connection holds the consent
    return ConsentOutcome(
        True,
        f"{attempt.institution_name} connected (connection {attempt.connection_id}); consent valid until "
        f"{attempt.valid_until:%Y-%m-%d}. Transactions arrive with the next sync, "
        f"or now with: reconbot bank sync {attempt.connection_id}",
    )
