"""The panel as the tests visit it: the served app of a set-up workspace, and visitors signed in by role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sqlalchemy import Engine
from yarl import URL

from reconbot.admin.security import CSRF_COOKIE, SESSION_COOKIE, csrf_token
from reconbot.core.roles import Role
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.people.invitations import accept_invite, invite
from reconbot.core.services.people.sessions import open_session
from tests.fakes.clock import FakeClock
from tests.support.people import PASSWORD

OWNER_EMAIL = "anna@kert.test"


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
