"""Connecting, syncing, renewing and disconnecting a bank, end to end through the web callback (sandbox bank)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.banks.errors import ConsentRefusedError, ProviderError
from reconbot.core.errors import ReconciliationError
from reconbot.core.persistence.bank_tables import (
    BankBalanceRecord,
    BankConnectionRecord,
    BankProviderRecord,
    ConnectionStatus,
)
from reconbot.core.persistence.tables import BankAccountRecord, BankTransactionRecord, OutboxEventRecord
from reconbot.core.services.banks.connections import complete_consent, connect_bank, disconnect, renew_connection
from reconbot.core.services.banks.providers import BankFeeds, save_credentials
from reconbot.core.services.banks.sync import sync_connection
from tests.fakes.clock import FakeClock
from tests.fakes.enable_banking import make_keypair
from tests.support.banks import connect_sandbox, import_recent_invoices, visit_bank
from tests.support.books import count


def connection(engine: Engine, connection_id: int) -> BankConnectionRecord:
    with Session(engine) as session:
        found = session.get(BankConnectionRecord, connection_id)
        assert found is not None
        return found


async def test_the_owner_connects_the_sandbox_bank_through_its_consent_page(
    web_feeds: BankFeeds, workspace_id: int, clock: FakeClock
) -> None:
    link = await connect_sandbox(web_feeds, workspace_id)

    found = connection(web_feeds.engine, link.connection_id)
    assert found.status is ConnectionStatus.ACTIVE
    assert found.consent_valid_until is not None and (found.consent_valid_until - clock()).days == 180
    with Session(web_feeds.engine) as session:
        accounts = session.exec(
            select(BankAccountRecord).where(col(BankAccountRecord.connection_id) == link.connection_id)
        ).all()
    assert sorted(a.currency for a in accounts) == ["EUR", "HUF"]
    assert all(a.iban.startswith("HU") and a.provider_uid for a in accounts)
    assert count(web_feeds.engine, OutboxEventRecord, kind="bank_connected") == 1


async def test_reloading_the_callback_page_connects_once(web_feeds: BankFeeds, workspace_id: int) -> None:
    link = await connect_bank(web_feeds, workspace_id, "sandbox", "SANDBOX_HU", actor="test")
    landed = await visit_bank(link.url)
    import httpx

    async with httpx.AsyncClient() as browser:
        again = await browser.get(str(landed.url))
    assert again.status_code == 200 and "connected" in again.text
    assert count(web_feeds.engine, BankAccountRecord) == 2
    assert count(web_feeds.engine, OutboxEventRecord, kind="bank_connected") == 1


async def test_a_refused_consent_leaves_a_refused_connection_and_no_accounts(
    web_feeds: BankFeeds, workspace_id: int
) -> None:
    link = await connect_bank(web_feeds, workspace_id, "sandbox", "Sandbox Bank HU", actor="test")
    landed = await visit_bank(link.url, approve=False)

    assert "not connected" in landed.text
    assert connection(web_feeds.engine, link.connection_id).status is ConnectionStatus.REFUSED
    assert count(web_feeds.engine, BankAccountRecord) == 0
    with pytest.raises(ConsentRefusedError):
        await complete_consent(web_feeds, link.state, {"code": "whatever", "state": link.state})


async def test_a_forged_code_or_a_foreign_redirect_is_refused(web_feeds: BankFeeds, workspace_id: int) -> None:
    link = await connect_bank(web_feeds, workspace_id, "sandbox", "Sandbox Bank HU", actor="test")
    with pytest.raises(ProviderError):
        await complete_consent(web_feeds, link.state, {"code": "0" * 32, "state": link.state})
    with pytest.raises(ReconciliationError):
        await complete_consent(web_feeds, "not-a-state-we-gave", {"code": "x"})
    import httpx

    async with httpx.AsyncClient() as browser:
        evil = link.url.replace("redirect_url=http", "redirect_url=https%3A%2F%2Fevil.example%2F%3Fx%3Dhttp")
        page = await browser.get(evil)
    assert page.status_code == 400
    assert connection(web_feeds.engine, link.connection_id).status is ConnectionStatus.PENDING


async def test_sync_stores_matches_and_a_second_sync_duplicates_nothing(
    web_feeds: BankFeeds, workspace_id: int, clock: FakeClock, tmp_path: Path
) -> None:
    import_recent_invoices(web_feeds.engine, workspace_id, clock().date(), tmp_path)
    link = await connect_sandbox(web_feeds, workspace_id)

    first = await sync_connection(web_feeds, link.connection_id)
    stored = count(web_feeds.engine, BankTransactionRecord)
    assert sum(a.new for a in first.accounts) == stored > 0
    assert first.matching.matched > 0
    assert count(web_feeds.engine, BankBalanceRecord) >= 2

    clock.advance(hours=3)
    second = await sync_connection(web_feeds, link.connection_id)
    assert sum(a.new for a in second.accounts) == 0
    assert count(web_feeds.engine, BankTransactionRecord) == stored
    pending_before = count(web_feeds.engine, BankTransactionRecord, pending=True)
    clock.advance(days=1)  # yesterday's pending ones are booked now, under new ids
    third = await sync_connection(web_feeds, link.connection_id)
    with Session(web_feeds.engine) as session:
        pending_days = {row.booking_date for row in session.exec(select(BankTransactionRecord)) if row.pending}
    assert pending_days <= {clock().date()}
    assert pending_before > 0 and sum(a.updated for a in third.accounts) == pending_before
    assert third.expired is False


async def test_renewal_keeps_the_accounts_and_their_transactions(
    web_feeds: BankFeeds, workspace_id: int, clock: FakeClock
) -> None:
    link = await connect_sandbox(web_feeds, workspace_id)
    await sync_connection(web_feeds, link.connection_id)
    before = count(web_feeds.engine, BankTransactionRecord)
    clock.advance(days=181)
    expired = await sync_connection(web_feeds, link.connection_id)
    assert expired.expired
    assert connection(web_feeds.engine, link.connection_id).status is ConnectionStatus.EXPIRED
    with pytest.raises(ReconciliationError, match="renew"):
        await sync_connection(web_feeds, link.connection_id)

    renewal = await renew_connection(web_feeds, link.connection_id, actor="test")
    landed = await visit_bank(renewal.url)
    assert "renewed" in landed.text
    assert connection(web_feeds.engine, link.connection_id).status is ConnectionStatus.ACTIVE
    assert count(web_feeds.engine, BankAccountRecord) == 2
    assert count(web_feeds.engine, BankTransactionRecord) == before
    assert count(web_feeds.engine, OutboxEventRecord, kind="consent_expired") == 1


async def test_disconnecting_stops_syncing_and_keeps_every_transaction(web_feeds: BankFeeds, workspace_id: int) -> None:
    link = await connect_sandbox(web_feeds, workspace_id)
    await sync_connection(web_feeds, link.connection_id)
    kept = count(web_feeds.engine, BankTransactionRecord)

    disconnect(web_feeds, link.connection_id, actor="test")
    with pytest.raises(ReconciliationError, match="disconnected"):
        await sync_connection(web_feeds, link.connection_id)
    assert count(web_feeds.engine, BankTransactionRecord) == kept > 0


def test_credentials_are_stored_encrypted_and_never_logged(
    engine: Engine, workspace_id: int, caplog: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RECONBOT_SECRET_KEY", raising=False)
    private_pem, _ = make_keypair()
    caplog.set_level(logging.DEBUG)

    save_credentials(engine, workspace_id, "enable-banking", {"application_id": "app-1", "private_key": private_pem},
                     actor="test")  # fmt: skip

    with Session(engine) as session:
        stored = session.exec(select(BankProviderRecord)).one().credentials
    key_body = private_pem.splitlines()[1]
    assert key_body not in stored and "app-1" not in stored
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert key_body not in caplog.text
    feeds = BankFeeds(engine)
    provider = feeds.provider(workspace_id, "enable-banking")
    assert provider.name == "enable-banking"


def test_credentials_stored_under_another_key_cannot_be_opened(
    engine: Engine, workspace_id: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    from reconbot.core.errors import SecretKeyError

    monkeypatch.setenv("RECONBOT_SECRET_KEY", Fernet.generate_key().decode())
    save_credentials(engine, workspace_id, "gocardless", {"secret_id": "id", "secret_key": "s3cret-value"},
                     actor="test")  # fmt: skip
    monkeypatch.setenv("RECONBOT_SECRET_KEY", Fernet.generate_key().decode())
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        BankFeeds(engine).provider(workspace_id, "gocardless")


def test_a_provider_without_credentials_says_how_to_set_it_up(engine: Engine, workspace_id: int) -> None:
    with pytest.raises(ProviderError, match="reconbot bank setup gocardless"):
        BankFeeds(engine).provider(workspace_id, "gocardless")


async def test_an_account_first_known_from_a_statement_file_continues_as_the_feeds_account(
    web_feeds: BankFeeds, workspace_id: int
) -> None:
    from reconbot.core.persistence.database import session_scope

    with session_scope(web_feeds.engine) as session:  # the domestic form a Hungarian export prints
        session.add(BankAccountRecord(workspace_id=workspace_id, iban="11732064-61892194-30050084", currency="HUF"))
    link = await connect_sandbox(web_feeds, workspace_id)
    with Session(web_feeds.engine) as session:
        accounts = session.exec(select(BankAccountRecord).order_by(col(BankAccountRecord.id))).all()
    assert len(accounts) == 2
    assert accounts[0].connection_id == link.connection_id and accounts[0].currency == "HUF"
