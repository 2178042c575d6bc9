"""The bank page through the real web app: the sandbox first try end to end, connect, renew, disconnect, sync,
provider credentials, and who may see or change what."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.core.domain import TransactionStatus
from reconbot.core.persistence.bank_tables import BankConnectionRecord, BankProviderRecord, ConnectionStatus
from reconbot.core.persistence.tables import AuditEventRecord, BankTransactionRecord, InvoiceRecord
from reconbot.core.roles import Role
from tests.fakes.enable_banking import APPLICATION_ID, make_keypair
from tests.support.panel import Panel, Visitor


async def approve_at_sandbox(visitor: Visitor, consent_url: str, decision: str = "approve") -> tuple[int, str]:
    """Open the sandbox bank's page as the browser would, press the button, and land on reconbot's callback."""
    async with visitor.http.get(consent_url) as page:
        assert page.status == 200 and "Sandbox Bank" in await page.text()
    query = {k: v[0] for k, v in parse_qs(urlsplit(consent_url).query).items()}
    form = {k: query[k] for k in ("reference", "state", "redirect_url")} | {"decision": decision}
    async with visitor.http.post(consent_url.split("?")[0], data=form) as landed:
        return landed.status, await landed.text()


def statuses(engine: Engine, workspace_id: int) -> dict[TransactionStatus, int]:
    with Session(engine) as session:
        return {TransactionStatus(k): v for k, v in session.exec(
            select(BankTransactionRecord.status, func.count())
            .where(col(BankTransactionRecord.workspace_id) == workspace_id)
            .group_by(col(BankTransactionRecord.status))).all()}  # fmt: skip


async def connect_sandbox(panel: Panel, owner: Visitor) -> int:
    """Run the first try as the owner does it; return the new connection's id."""
    consent_url = await owner.location("/bank/sandbox")
    assert consent_url.startswith(panel.url + "/sandbox-bank/authorize?")
    status, body = await approve_at_sandbox(owner, consent_url)
    assert status == 200 and "Sandbox Bank HU connected" in body, body
    with Session(panel.engine) as session:
        connection = session.exec(select(BankConnectionRecord)).one()
    assert connection.id is not None and connection.status is ConnectionStatus.ACTIVE
    return connection.id


async def test_the_sandbox_first_try_adds_sample_invoices_connects_and_syncs_at_once(panel: Panel) -> None:
    owner = await panel.visitor()
    await connect_sandbox(panel, owner)
    with Session(panel.engine) as session:
        invoices = session.exec(select(InvoiceRecord)).all()
    assert (
        len(invoices) == 13 and {i.source for i in invoices} == {"sample"} and {i.currency for i in invoices} == {"HUF"}
    )
    assert all((panel.clock().date() - i.issue_date).days <= 45 for i in invoices)
    found = statuses(panel.engine, panel.workspace_id)
    assert sum(found.values()) > 13, found
    # Automatic pairings, and the two amount-only payments of one partner's equal invoices left to a person.
    assert found.get(TransactionStatus.MATCHED, 0) >= 6 and found.get(TransactionStatus.SUGGESTED, 0) >= 2, found
    status, body = await owner.get("/bank")
    assert status == 200 and "Sandbox Bank HU" in body and "180 days left" in body and "Sync now" in body
    assert re.search(r"HU\d{26}", body) and "Ft" in body  # accounts with their balances


async def test_the_callback_page_offers_the_way_on_and_a_second_first_try_adds_no_more_invoices(panel: Panel) -> None:
    owner = await panel.visitor()
    consent_url = await owner.location("/bank/sandbox")
    _, body = await approve_at_sandbox(owner, consent_url)
    assert 'href="/workbench"' in body and 'href="/bank"' in body and "Synced:" in body and "matched" in body
    consent_url = await owner.location("/bank/sandbox")
    _, body = await approve_at_sandbox(owner, consent_url, "refuse")
    assert "was not connected" in body
    with Session(panel.engine) as session:
        assert session.exec(select(func.count()).select_from(InvoiceRecord)).one() == 13


async def test_renew_disconnect_and_sync_now(panel: Panel) -> None:
    owner = await panel.visitor()
    connection_id = await connect_sandbox(panel, owner)
    panel.clock.advance(minutes=2)
    status, body = await owner.post(f"/bank/{connection_id}/sync")
    assert status == 200 and "Synced:" in body and re.search(r"\d+ new, \d+ updated", body)
    status, body = await owner.post(f"/bank/{connection_id}/sync")  # the same minute: absorbed
    assert "Already synced or syncing" in body
    renew_url = await owner.location(f"/bank/{connection_id}/renew")
    status, body = await approve_at_sandbox(owner, renew_url)
    assert status == 200 and "Sandbox Bank HU renewed" in body
    kept = sum(statuses(panel.engine, panel.workspace_id).values())
    status, body = await owner.post(f"/bank/{connection_id}/disconnect")
    assert status == 200 and "transactions are kept" in body and "disconnected" in body
    assert sum(statuses(panel.engine, panel.workspace_id).values()) == kept
    status, body = await owner.post(f"/bank/{connection_id}/sync")
    assert status == 400 and "disconnected" in body
    with Session(panel.engine) as session:
        actions = set(session.exec(select(AuditEventRecord.action)))
    assert {"bank_connection.renewal_started", "bank_connection.disconnected"} <= actions


async def test_connecting_a_chosen_bank_goes_to_its_consent_page(panel: Panel) -> None:
    owner = await panel.visitor()
    status, body = await owner.get("/bank/add?provider=sandbox&country=PL")
    assert status == 200 and "Sandbox Bank PL" in body
    consent_url = await owner.location("/bank/connect", {"provider": "sandbox", "institution": "SANDBOX_PL",
                                                         "country": "PL"})  # fmt: skip
    status, body = await approve_at_sandbox(owner, consent_url)
    assert "Sandbox Bank PL connected" in body and "Synced:" in body  # any sandbox connection syncs at once
    status, body = await owner.post("/bank/connect", {"provider": "sandbox", "institution": "Nowhere Bank"})
    assert status == 400 and "knows no bank" in body
    status, body = await owner.get("/bank/add?provider=gocardless")
    assert status == 400 and "not set up" in body


async def test_provider_credentials_are_stored_and_never_shown(panel: Panel) -> None:
    owner = await panel.visitor()
    private_pem, _ = make_keypair()
    status, body = await owner.post("/bank/credentials", {"provider": "enable-banking",
                                                          "application_id": APPLICATION_ID,
                                                          "private_key": private_pem})  # fmt: skip
    assert status == 200 and "credentials saved" in body
    secret = "gc-secret-key-7f3e9a1c5b2d4e6f"
    status, body = await owner.post("/bank/credentials", {"provider": "gocardless", "secret_id": "gc-id-0001",
                                                          "secret_key": secret})  # fmt: skip
    assert status == 200 and "••••" in body
    body = unescape(body)
    key_body = private_pem.split("-----")[2].strip()
    assert secret not in body and key_body[:40] not in body and key_body[-40:] not in body
    status, body = await owner.post("/bank/credentials", {"provider": "gocardless", "secret_id": "only-the-id"})
    assert status == 400 and "missing secret_key" in body
    with Session(panel.engine) as session:
        assert session.exec(select(func.count()).select_from(BankProviderRecord)).one() == 2


async def test_roles_without_bank_data_cannot_see_the_page_and_only_setup_roles_change_it(panel: Panel) -> None:
    owner = await panel.visitor()
    connection_id = await connect_sandbox(panel, owner)
    for role in (Role.OPERATOR, Role.INVOICING):
        visitor = await panel.visitor(role)
        status, body = await visitor.get("/bank")
        assert status == 403 and "Not for your role" in body
        assert "Sandbox Bank HU" not in body and not re.search(r"HU\d{26}", body)
    accountant = await panel.visitor(Role.ACCOUNTANT)
    status, body = await accountant.get("/bank")
    assert status == 200 and "Sandbox Bank HU" in body and "Disconnect" not in body and "Secret id" not in body
    for path in (f"/bank/{connection_id}/disconnect", f"/bank/{connection_id}/sync", "/bank/sandbox",
                 "/bank/credentials", "/bank/connect"):  # fmt: skip
        status, _ = await accountant.post(path, {"provider": "sandbox", "institution": "SANDBOX_HU"})
        assert status == 403, path
    with Session(panel.engine) as session:
        assert session.get_one(BankConnectionRecord, connection_id).status is ConnectionStatus.ACTIVE


async def test_another_workspaces_connection_is_not_found(panel: Panel) -> None:
    owner = await panel.visitor()
    status, _ = await owner.post("/bank/999/disconnect")
    assert status == 404
