"""What the bank page, ``reconbot bank list``, ``bank sync`` and ``bank connect`` read: connections, their
accounts with the latest balance, the active ones, and how a consent request stands; and how a page checks one
connection (the workspace's own only, and whether any of its accounts ever synced)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine

from reconbot.core.persistence.bank_tables import (
    BankBalanceRecord,
    BankConnectionRecord,
    ConnectionStatus,
    ConsentAttemptStatus,
)
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import BankAccountRecord
from reconbot.core.services.banks.connections import connect_bank, consent_attempt
from reconbot.core.services.banks.overview import (
    ConnectionSummary,
    active_connection_ids,
    connection_of,
    connection_views,
)
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.workspaces import open_workspace
from tests.support.banks import visit_bank

FETCHED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SYNCED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _connection(engine: Engine, workspace_id: int, status: ConnectionStatus, bank: str = "Bank") -> int:
    with session_scope(engine) as session:
        record = BankConnectionRecord(workspace_id=workspace_id, provider="sandbox", institution_id=bank,
                                      institution_name=bank, country="HU", status=status,
                                      created_by="test")  # fmt: skip
        session.add(record)
        session.flush()
        assert record.id is not None
        return record.id


def test_active_connections_are_listed_oldest_first_and_only_the_workspaces_own(
    engine: Engine, workspace_id: int
) -> None:
    other = open_workspace(engine, "other").id
    first = _connection(engine, workspace_id, ConnectionStatus.ACTIVE)
    _connection(engine, workspace_id, ConnectionStatus.DISCONNECTED)
    _connection(engine, workspace_id, ConnectionStatus.EXPIRED)
    others = _connection(engine, other, ConnectionStatus.ACTIVE)
    last = _connection(engine, workspace_id, ConnectionStatus.ACTIVE)

    assert active_connection_ids(engine, workspace_id) == [first, last]
    assert active_connection_ids(engine, other) == [others]


def test_an_account_shows_its_latest_balance_with_its_day_and_the_first_listed_kind_of_a_fetch(
    engine: Engine, workspace_id: int
) -> None:
    connection_id = _connection(engine, workspace_id, ConnectionStatus.ACTIVE)
    with session_scope(engine) as session:
        account = BankAccountRecord(workspace_id=workspace_id, iban="HU42117730161111101800000000", currency="HUF",
                                    connection_id=connection_id)  # fmt: skip
        bare = BankAccountRecord(workspace_id=workspace_id, iban="", provider_uid="acc-2", currency="EUR",
                                 connection_id=connection_id)  # fmt: skip
        session.add_all([account, bare])
        session.flush()
        assert account.id is not None
        # The bank lists closingBooked first; both of 2 March arrive in one fetch.
        reported = [("closingBooked", "100", date(2026, 3, 1)), ("closingBooked", "250", date(2026, 3, 2)),
                    ("interimAvailable", "260", date(2026, 3, 2))]  # fmt: skip
        for kind, amount, day in reported:
            session.add(BankBalanceRecord(workspace_id=workspace_id, bank_account_id=account.id, kind=kind,
                                          amount=Decimal(amount), currency="HUF", reference_date=day,
                                          fetched_at=FETCHED))  # fmt: skip

    (view,) = connection_views(engine, workspace_id, FETCHED)
    with_balance, without = view.accounts
    assert (with_balance.balance, with_balance.balance_kind, with_balance.balance_date) == (
        Decimal("250"),
        "closingBooked",
        date(2026, 3, 2),
    )
    assert (without.iban, without.balance, without.balance_date, without.balance_currency) == (
        "acc-2",
        None,
        None,
        "EUR",
    )


async def test_a_consent_request_is_pending_then_granted_with_its_connection(
    web_feeds: BankFeeds, workspace_id: int
) -> None:
    link = await connect_bank(web_feeds, workspace_id, "sandbox", "Sandbox Bank HU", actor="test")
    pending = consent_attempt(web_feeds.engine, link.state)
    assert pending is not None and pending.status is ConsentAttemptStatus.PENDING and pending.valid_until is None

    await visit_bank(link.url)
    granted = consent_attempt(web_feeds.engine, link.state)
    assert granted is not None and granted.status is ConsentAttemptStatus.GRANTED
    assert (granted.connection_id, granted.institution_name) == (link.connection_id, "Sandbox Bank HU")
    assert granted.valid_until is not None and granted.valid_until > web_feeds.clock()


async def test_a_refused_consent_request_says_why_and_an_unknown_one_is_none(
    web_feeds: BankFeeds, workspace_id: int
) -> None:
    link = await connect_bank(web_feeds, workspace_id, "sandbox", "Sandbox Bank HU", actor="test")
    await visit_bank(link.url, approve=False)

    refused = consent_attempt(web_feeds.engine, link.state)
    assert refused is not None and refused.status is ConsentAttemptStatus.REFUSED and refused.error
    assert consent_attempt(web_feeds.engine, "no-such-state") is None


def _connection_with_accounts(engine: Engine, workspace_id: int, *accounts_synced: datetime | None) -> int:
    """Store a sandbox connection with one account per entry of ``accounts_synced`` (its last sync or None)."""
    with session_scope(engine) as session:
        connection = BankConnectionRecord(workspace_id=workspace_id, provider="sandbox", institution_id="HU",
                                          institution_name="Sandbox Bank HU", country="HU",
                                          status=ConnectionStatus.ACTIVE, created_by="test")  # fmt: skip
        session.add(connection)
        session.flush()
        assert connection.id is not None
        for n, synced in enumerate(accounts_synced):
            uid = f"c{connection.id}-{n}"
            session.add(BankAccountRecord(workspace_id=workspace_id, iban=uid, provider_uid=uid, currency="HUF",
                                          connection_id=connection.id,
                                          last_sync_at=synced))  # fmt: skip
        return connection.id


def test_a_connection_is_found_only_in_its_own_workspace(engine: Engine, acme_workspace: int) -> None:
    connection_id = _connection_with_accounts(engine, acme_workspace)
    other = open_workspace(engine, "bakery").id
    assert connection_of(engine, acme_workspace, connection_id) == ConnectionSummary(
        connection_id, acme_workspace, "sandbox", "Sandbox Bank HU", ConnectionStatus.ACTIVE, ever_synced=False
    )
    assert connection_of(engine, other, connection_id) is None
    assert connection_of(engine, acme_workspace, connection_id + 1000) is None


def test_a_connection_was_synced_once_any_of_its_own_accounts_was(engine: Engine, acme_workspace: int) -> None:
    never = _connection_with_accounts(engine, acme_workspace, None, None)
    _connection_with_accounts(engine, acme_workspace, SYNCED)  # another connection's synced account does not count
    once = _connection_with_accounts(engine, acme_workspace, None, SYNCED)
    summaries = [connection_of(engine, acme_workspace, c) for c in (never, once)]
    assert [s.ever_synced if s else None for s in summaries] == [False, True]
