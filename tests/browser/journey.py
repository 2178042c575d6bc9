"""Steps a person takes in the panel, shared by the browser tests."""

from __future__ import annotations

from typing import Any

from tests.support.browser import snap

OWNER_EMAIL = "anna@kert.test"
PASSWORD = "correct horse battery"


async def first_run(page: Any, url: str, *, shoot: bool = False) -> None:
    """Open reconbot for the first time and create the owner and the workspace Kert-Építő Kft."""
    await page.goto(url + "/")
    assert page.url.endswith("/setup")
    if shoot:
        await snap(page, "01-first-run")
    await page.fill("#owner_name", "Anna Kovács")
    await page.fill("#email", OWNER_EMAIL)
    await page.fill("#password", PASSWORD)
    await page.fill("#password_again", PASSWORD)
    await page.fill("#workspace_name", "Kert-Építő Kft.")
    await page.select_option("#country", "HU")
    await page.select_option("#currency", "HUF")
    await page.select_option("#timezone", "Europe/Budapest")
    await page.select_option("#language", "hu")
    await page.click("button[type=submit]")
    await page.wait_for_url(url + "/")


async def sign_in(page: Any, url: str, email: str, password: str) -> None:
    """Sign in through the form (whatever page it lands on)."""
    await page.goto(url + "/login")
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
