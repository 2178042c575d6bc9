"""Roles in a real browser: an operator never sees bank transactions or balances, whatever they type."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from reconbot.core.persistence.account_tables import LoginAccountRecord
from reconbot.core.roles import Role
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.people.invitations import accept_invite, invite
from reconbot.core.services.people.sessions import memberships
from tests.browser.journey import PASSWORD, first_run, sign_in
from tests.support.browser import Site, snap
from tests.support.paths import REPO

STATEMENT = REPO / "reconbot" / "samples" / "demo_statement.xml"


async def test_an_operator_sees_no_transactions_or_balances_anywhere(site: Site, page: Any) -> None:
    await first_run(page, site.url)
    await page.click("text=Sign out")
    with Session(site.engine) as session:
        owner = session.exec(select(LoginAccountRecord.id)).one()
    assert owner is not None
    account = memberships(site.engine, owner)[0]
    import_statement(site.engine, account.workspace_id, STATEMENT, actor="test")
    _, token = invite(site.engine, account.workspace_id, "Olga Operator", "olga@kert.test", Role.OPERATOR,
                      actor="test", now=site.clock())  # fmt: skip
    accept_invite(site.engine, token, PASSWORD, now=site.clock())

    await sign_in(page, site.url, "olga@kert.test", PASSWORD)
    nav = await page.inner_text("header")
    assert "Olga Operator · operator" in nav
    assert "Workbench" not in nav and "Bank" not in nav and "Audit log" not in nav
    await snap(page, "operator-home")
    for path in ("/workbench", "/workbench/1", "/bank", "/members", "/audit"):
        response = await page.goto(site.url + path)
        assert response is not None and response.status == 403, path
        assert "Not for your role" in await page.inner_text("main")
    # Pages an operator may open show nothing of the bank: no counterparty of the imported statement.
    for path in ("/", "/status", "/invoices"):
        response = await page.goto(site.url + path)
        assert response is not None and response.status == 200, path
        body = await page.content()
        assert "FEKETE BT" not in body and "HORVATH PETER" not in body, path
    await snap(page, "operator-refused")
