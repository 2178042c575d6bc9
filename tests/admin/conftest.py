"""Fixtures of the panel tests: a served reconbot web app with a set-up workspace, and signed-in visitors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine
from yarl import URL

from reconbot.admin.app import create_app
from reconbot.admin.security import CSRF_COOKIE, SESSION_COOKIE, csrf_token
from reconbot.core.persistence.tables import Language
from reconbot.core.roles import Role
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.people.invitations import accept_invite, invite
from reconbot.core.services.people.sessions import memberships, open_session
from reconbot.core.services.people.sign_in import first_run
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.server import free_port, serve

OWNER_EMAIL = "anna@kert.test"
PASSWORD = "correct horse battery"  # every test account's password


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # a Monday


@dataclass
class Visitor:
    """A browser without a browser: an HTTP client holding one person's cookies; posts carry the CSRF token."""

    http: aiohttp.ClientSession
    base: str
    csrf: str
    name: str = ""

    async def get(self, path: str, *, follow: bool = True) -> tuple[int, str]:
        """Return the status and body of GET ``path``."""
        async with self.http.get(self.base + path, allow_redirects=follow) as response:
            return response.status, await response.text()

    async def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
                   follow: bool = True) -> tuple[int, str]:  # fmt: skip
        """Return the status and body of a form POST to ``path`` (with the CSRF token unless ``csrf`` is False)."""
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        async with self.http.post(self.base + path, data=form, allow_redirects=follow) as response:
            return response.status, await response.text()

    async def location(self, path: str, data: dict[str, Any] | None = None) -> str:
        """Return where a form POST to ``path`` redirects (failing when it does not redirect)."""
        form = {"csrf_token": self.csrf, **(data or {})}
        async with self.http.post(self.base + path, data=form, allow_redirects=False) as response:
            assert response.status in (302, 303), (response.status, await response.text())
            return response.headers["Location"]


@dataclass
class Panel:
    """The served panel of the workspace "Kert-Építő Kft." (owner Anna Kovács) and ways to visit it."""

    engine: Engine
    feeds: BankFeeds
    url: str
    clock: FakeClock
    owner_account: int
    workspace_id: int
    _clients: list[aiohttp.ClientSession] = field(default_factory=list)

    def account_for(self, role: Role, name: str | None = None) -> int:
        """Return the login account of a member with ``role`` (the owner, or a newly invited member)."""
        if role is Role.OWNER and name is None:
            return self.owner_account
        name = name or f"{role.value.replace('_', ' ').title()} Tester"
        email = name.lower().replace(" ", ".") + "@kert.test"
        _, token = invite(self.engine, self.workspace_id, name, email, role, actor="test", now=self.clock())
        return accept_invite(self.engine, token, PASSWORD, now=self.clock())

    async def visitor(self, role: Role | None = Role.OWNER, *, name: str | None = None) -> Visitor:
        """Return a visitor signed in as a member with ``role`` (None: not signed in)."""
        jar = aiohttp.CookieJar(unsafe=True)
        http = aiohttp.ClientSession(cookie_jar=jar)
        self._clients.append(http)
        key = "test-browser-key"
        cookies = {CSRF_COOKIE: key}
        if role is not None:
            account = self.account_for(role, name)
            cookies[SESSION_COOKIE] = open_session(self.engine, account, now=self.clock(),
                                                   workspace_id=self.workspace_id)  # fmt: skip
        jar.update_cookies(cookies, URL(self.url))
        return Visitor(http, self.url, csrf_token(key), name or "")

    async def close(self) -> None:
        for http in self._clients:
            await http.close()


@pytest.fixture
async def panel(engine: Engine, clock: FakeClock) -> AsyncIterator[Panel]:
    """Return the panel served on a free port, its workspace set up through first run."""
    account = first_run(engine, email=OWNER_EMAIL, password=PASSWORD, owner_name="Anna Kovács",
                        workspace_name="Kert-Építő Kft.", country="HU", timezone="Europe/Budapest", currency="HUF",
                        language=Language.HU)  # fmt: skip
    port = free_port()
    feeds = BankFeeds(engine, clock=clock, sleep=RecordingSleep(), public_url=f"http://127.0.0.1:{port}")
    async with serve(create_app(feeds), port=port) as url:
        found = Panel(engine, feeds, url, clock, account, memberships(engine, account)[0].workspace_id)
        try:
            yield found
        finally:
            await found.close()
