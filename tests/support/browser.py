"""The browser tests' site and screenshots: reconbot served on a local port, driven by Playwright in the system's
Chromium (``/usr/bin/chromium``, or ``RECONBOT_CHROMIUM``). Every page a test visits is saved as a screenshot under
``artifacts/screenshots/``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from reconbot.core.services.banks.providers import BankFeeds
from tests.fakes.clock import FakeClock
from tests.support.paths import REPO

CHROMIUM = Path(os.environ.get("RECONBOT_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO / "artifacts" / "screenshots"


def unavailable(reason: str) -> None:
    """Skip the test for ``reason``; in CI fail it instead, so CI never passes by skipping the browser tests."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs Debian's chromium)")
    pytest.skip(reason)


@dataclass
class Site:
    """The served reconbot and what the test controls of it."""

    url: str
    engine: Engine
    feeds: BankFeeds
    clock: FakeClock


@dataclass
class LiveSite(Site):
    """The site with the chat runtime running as ``reconbot run`` runs it, its Telegram a local fake."""

    runtime: Any
    telegram: Any


async def snap(page: Any, name: str) -> Path:
    """Save a full-page screenshot of what ``page`` shows as ``artifacts/screenshots/<name>.png``; return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
