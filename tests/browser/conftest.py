"""Browser tests: the real panel served on a local port, driven by Playwright in the system's Chromium.

Without Chromium (``/usr/bin/chromium``, or ``RECONBOT_CHROMIUM``) or Playwright these tests skip; in CI
(``CI`` set, where ``.ci/run`` installs Chromium) they fail instead, so CI never passes by skipping them.
Every page a test visits is saved as a screenshot under ``artifacts/screenshots/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from reconbot.admin.app import create_app
from reconbot.core.services.banks.providers import BankFeeds
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.server import free_port, serve
from tests.support.browser import CHROMIUM, LiveSite, Site, unavailable


@pytest.fixture
def clock() -> FakeClock:
    """The suite's clock, started at the real day instead of ``MONDAY``: the sandbox bank books today's payments as
    pending and the browser's cookies expire by real time."""
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def site(engine: Engine, clock: FakeClock) -> AsyncIterator[Site]:
    """Return reconbot's web app served on a free port on an empty, migrated database."""
    port = free_port()
    feeds = BankFeeds(engine, clock=clock, sleep=RecordingSleep(), public_url=f"http://127.0.0.1:{port}")
    async with serve(create_app(feeds), port=port) as url:
        yield Site(url, engine, feeds, clock)


@pytest.fixture
async def live_site(engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LiveSite]:
    """Return reconbot's web app with the chat runtime (reloaded by the panel) and a fake Telegram Bot API."""
    from reconbot.bot.runtime import ChatRuntime
    from tests.fakes.telegram import FakeTelegram

    telegram = FakeTelegram()
    async with serve(telegram.app) as telegram_url:
        monkeypatch.setenv("RECONBOT_TELEGRAM_API_URL", telegram_url)
        port = free_port()
        feeds = BankFeeds(engine, clock=clock, sleep=RecordingSleep(), public_url=f"http://127.0.0.1:{port}")
        runtime = ChatRuntime(engine, feeds=feeds, public_url=feeds.public_url)
        app = create_app(feeds, chat_reload=runtime.reload_soon)
        runtime.mount(app)
        async with serve(app, port=port) as url:
            await runtime.start()
            try:
                yield LiveSite(url, engine, feeds, clock, runtime, telegram)
            finally:
                await runtime.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Return a headless Chromium (Playwright's async API)."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("Playwright is not installed")
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM}")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Return a fresh browser tab (its own cookies), phone-sized when the test is marked ``phone``."""
    phone = request.node.get_closest_marker("phone") is not None
    context = await browser.new_context(
        viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 860}
    )
    tab = await context.new_page()
    tab.set_default_timeout(15_000)
    try:
        yield tab
    finally:
        await context.close()
