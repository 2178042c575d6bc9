"""What the bank page, ``reconbot bank list``, ``bank sync`` and ``bank connect`` read: connections, their
accounts with the latest balance, the active ones, and how a consent request stands."""

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
from reconbot.core.services.banks.overview import active_connection_ids, connection_views
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.workspaces import open_workspace
from tests.banks.flows import visit_bank

FETCHED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


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
    engine: Engine, hu_workspace: int
) -> None:
    other = open_workspace(engine, "other").id
    first = _connection(engine, hu_workspace, ConnectionStatus.ACTIVE)
    _connection(engine, hu_workspace, ConnectionStatus.DISCONNECTED)
    _connection(engine, hu_workspace, ConnectionStatus.EXPIRED)
    others = _connection(engine, other, ConnectionStatus.ACTIVE)
    last = _connection(engine, hu_workspace, ConnectionStatus.ACTIVE)

    assert active_connection_ids(engine, hu_workspace) == [first, last]
    assert active_connection_ids(engine, other) == [others]


def test_an_account_shows_its_latest_balance_with_its_day_and_the_first_listed_kind_of_a_fetch(
    engine: Engine, hu_workspace: int
) -> None:
    connection_id = _connection(engine, hu_workspace, ConnectionStatus.ACTIVE)
    with session_scope(engine) as session:
        account = BankAccountRecord(workspace_id=hu_workspace, iban="HU42117730161111101800000000", currency="HUF",
                                    connection_id=connection_id)  # fmt: skip
        bare = BankAccountRecord(workspace_id=hu_workspace, iban="", provider_uid="acc-2", currency="EUR",
                                 connection_id=connection_id)  # fmt: skip
        session.add_all([account, bare])
        session.flush()
        assert account.id is not None
        # The bank lists closingBooked first; both of 2 March arrive in one fetch.
        reported = [("closingBooked", "100", date(2026, 3, 1)), ("closingBooked", "250", date(2026, 3, 2)),
                    ("interimAvailable", "260", date(2026, 3, 2))]  # fmt: skip
        for kind, amount, day in reported:
            session.add(BankBalanceRecord(workspace_id=hu_workspace, bank_account_id=account.id, kind=kind,
                                          amount=Decimal(amount), currency="HUF", reference_date=day,
                                          fetched_at=FETCHED))  # fmt: skip

    (view,) = connection_views(engine, hu_workspace, FETCHED)
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
    web_feeds: BankFeeds, hu_workspace: int
) -> None:
    link = await connect_bank(web_feeds, hu_workspace, "sandbox", "Sandbox Bank HU", actor="test")
    pending = consent_attempt(web_feeds.engine, link.state)
    assert pending is not None and pending.status is ConsentAttemptStatus.PENDING and pending.valid_until is None

    await visit_bank(link.url)
    granted = consent_attempt(web_feeds.engine, link.state)
    assert granted is not None and granted.status is ConsentAttemptStatus.GRANTED
    assert (granted.connection_id, granted.institution_name) == (link.connection_id, "Sandbox Bank HU")
    assert granted.valid_until is not None and granted.valid_until > web_feeds.clock()


async def test_a_refused_consent_request_says_why_and_an_unknown_one_is_none(
    web_feeds: BankFeeds, hu_workspace: int
) -> None:
    link = await connect_bank(web_feeds, hu_workspace, "sandbox", "Sandbox Bank HU", actor="test")
    await visit_bank(link.url, approve=False)

    refused = consent_attempt(web_feeds.engine, link.state)
    assert refused is not None and refused.status is ConsentAttemptStatus.REFUSED and refused.error
    assert consent_attempt(web_feeds.engine, "no-such-state") is None
