"""First run, CSRF and the login throttle, in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from reconbot.core.persistence.account_tables import LoginAttemptRecord
from reconbot.core.persistence.tables import WorkspaceRecord
from reconbot.core.services.people.sign_in import FAILURES_PER_EMAIL
from tests.browser.journey import OWNER_EMAIL, PASSWORD, first_run, sign_in
from tests.support.browser import Site, snap


async def test_first_run_creates_the_owner_and_the_workspace_and_lands_on_home(site: Site, page: Any) -> None:
    await first_run(page, site.url, shoot=True)
    assert "Welcome! Your workspace is ready." in await page.inner_text("main")
    assert await page.is_visible("text=Try the sandbox bank")
    await snap(page, "02-home")
    with Session(site.engine) as session:
        workspace = session.exec(select(WorkspaceRecord)).one()
    assert (workspace.name, workspace.country, workspace.currency, workspace.timezone, workspace.language.value) == (
        "Kert-Építő Kft.", "HU", "HUF", "Europe/Budapest", "hu")  # fmt: skip
    # Sign out and back in: the session was real.
    await page.click("text=Sign out")
    await page.wait_for_url(site.url + "/login")
    await sign_in(page, site.url, OWNER_EMAIL, PASSWORD)
    assert await page.is_visible("text=Sign out")


async def test_a_form_sent_without_its_csrf_token_is_refused(site: Site, page: Any) -> None:
    await first_run(page, site.url)
    await page.click("text=Sign out")
    await page.wait_for_url(site.url + "/login")
    await page.fill("#email", OWNER_EMAIL)
    await page.fill("#password", PASSWORD)
    await page.locator("input[name=csrf_token]").evaluate("field => field.remove()")
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    assert "Form refused" in await page.inner_text("main")
    await snap(page, "csrf-refused")
    with Session(site.engine) as session:  # refused before the password was even looked at
        assert session.exec(select(LoginAttemptRecord)).all() == []
    assert not await page.is_visible("text=Sign out")


async def test_sign_in_is_throttled_after_repeated_failures(site: Site, page: Any) -> None:
    await first_run(page, site.url)
    await page.click("text=Sign out")
    for _ in range(FAILURES_PER_EMAIL):
        await sign_in(page, site.url, OWNER_EMAIL, "a wrong password")
        assert "Wrong e-mail or password." in await page.inner_text("main")
    await sign_in(page, site.url, OWNER_EMAIL, PASSWORD)
    text = await page.inner_text("main")
    assert "Too many failed sign-ins; try again in 15 minutes." in text
    await snap(page, "login-throttled")
    assert not await page.is_visible("text=Sign out")
    site.clock.advance(minutes=16)
    await sign_in(page, site.url, OWNER_EMAIL, PASSWORD)
    assert await page.is_visible("text=Sign out")


@pytest.mark.phone
async def test_the_pages_fit_a_phone_screen(site: Site, page: Any) -> None:
    await first_run(page, site.url)
    for path, name in (("/", "phone-home"), ("/workbench", "phone-workbench"), ("/members", "phone-members"),
                       ("/settings", "phone-settings")):  # fmt: skip
        await page.goto(site.url + path)
        # Wide tables scroll inside their own box; the page itself never scrolls sideways.
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
        await snap(page, name)
