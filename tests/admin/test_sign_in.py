"""Signing in, first run, invitations, CSRF, throttling and role checks, through the real web app."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from reconbot.core.persistence.account_tables import LoginAccountRecord
from reconbot.core.roles import Role
from reconbot.core.services.people.sign_in import FAILURES_PER_EMAIL, needs_first_run
from tests.support.panel import OWNER_EMAIL, Panel
from tests.support.people import PASSWORD


async def test_the_home_page_sends_strangers_to_sign_in_and_shows_members_their_workspace(panel: Panel) -> None:
    stranger = await panel.visitor(None)
    status, body = await stranger.get("/")
    assert status == 200 and "Sign in to reconbot" in body
    owner = await panel.visitor()
    status, body = await owner.get("/")
    assert status == 200 and "Kert-Építő Kft." in body and "Try the sandbox bank" in body


async def test_signing_in_with_the_right_password_opens_a_session_and_a_wrong_one_does_not(panel: Panel) -> None:
    visitor = await panel.visitor(None)
    status, body = await visitor.post("/login", {"email": "ANNA@kert.test ", "password": "wrong password!"})
    assert status == 401 and "Wrong e-mail or password." in body
    status, body = await visitor.post("/login", {"email": OWNER_EMAIL, "password": PASSWORD, "next": "/?from=login"})
    assert status == 200 and "Sign out" in body


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(panel: Panel) -> None:
    visitor = await panel.visitor(None)
    status, body = await visitor.post("/login", {"email": OWNER_EMAIL, "password": PASSWORD}, csrf=False)
    assert status == 403 and "did not come from this reconbot page" in body
    status, _ = await visitor.post("/login", {"email": OWNER_EMAIL, "password": PASSWORD, "csrf_token": "0" * 64},
                                   csrf=False)  # fmt: skip
    assert status == 403


async def test_too_many_failures_refuse_even_the_right_password_until_the_window_passes(panel: Panel) -> None:
    visitor = await panel.visitor(None)
    for _ in range(FAILURES_PER_EMAIL):
        status, _ = await visitor.post("/login", {"email": OWNER_EMAIL, "password": "not the password"})
        assert status == 401
    status, body = await visitor.post("/login", {"email": OWNER_EMAIL, "password": PASSWORD})
    assert status == 429 and "try again in 15 minutes" in body
    panel.clock.advance(minutes=16)
    status, body = await visitor.post("/login", {"email": OWNER_EMAIL, "password": PASSWORD})
    assert status == 200 and "Sign out" in body


async def test_first_run_is_offered_only_until_the_first_account_exists(engine: Engine, panel: Panel) -> None:
    assert not needs_first_run(engine)
    visitor = await panel.visitor(None)
    _, body = await visitor.get("/setup")
    assert "Sign in to reconbot" in body
    status, _ = await visitor.post("/setup", {"email": "mallory@evil.test", "password": PASSWORD,
                                              "password_again": PASSWORD, "workspace_name": "Mine",
                                              "owner_name": "M", "country": "HU", "currency": "HUF",
                                              "timezone": "UTC", "language": "en"})  # fmt: skip
    assert status == 200  # sent on to sign-in
    with Session(engine) as session:
        assert [a.email for a in session.exec(select(LoginAccountRecord))] == [OWNER_EMAIL]


async def test_an_invited_member_chooses_a_password_once_and_arrives_signed_in(engine: Engine, panel: Panel) -> None:
    from reconbot.core.services.people.invitations import invite

    _, token = invite(engine, panel.workspace_id, "Béla Szabó", "bela@kert.test", Role.ACCOUNTANT, actor="test",
                      now=datetime(2026, 3, 2, 9, tzinfo=UTC))  # fmt: skip
    visitor = await panel.visitor(None)
    status, body = await visitor.get(f"/invite/{token}")
    assert status == 200 and "Béla Szabó" in body
    status, body = await visitor.post(f"/invite/{token}", {"password": PASSWORD, "password_again": PASSWORD})
    assert status == 200 and "Welcome to Kert-Építő Kft.!" in body and "accountant" in body
    status, body = await (await panel.visitor(None)).get(f"/invite/{token}")
    assert status == 404 and re.search(r"not valid", body)


async def test_pages_send_security_headers(panel: Panel) -> None:
    visitor = await panel.visitor()
    async with visitor.http.get(panel.url + "/") as response:
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
