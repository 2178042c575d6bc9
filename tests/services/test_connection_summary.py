"""How a page checks one bank connection: the workspace's own only, and whether any of its accounts ever synced."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from reconbot.core.persistence.bank_tables import BankConnectionRecord, ConnectionStatus
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import BankAccountRecord
from reconbot.core.services.banks.overview import ConnectionSummary, connection_of
from reconbot.core.services.workspaces import open_workspace

SYNCED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _connection(engine: Engine, workspace_id: int, *accounts_synced: datetime | None) -> int:
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


def test_a_connection_is_found_only_in_its_own_workspace(engine: Engine, workspace_id: int) -> None:
    connection_id = _connection(engine, workspace_id)
    other = open_workspace(engine, "bakery").id
    assert connection_of(engine, workspace_id, connection_id) == ConnectionSummary(
        connection_id, workspace_id, "sandbox", "Sandbox Bank HU", ConnectionStatus.ACTIVE, ever_synced=False
    )
    assert connection_of(engine, other, connection_id) is None
    assert connection_of(engine, workspace_id, connection_id + 1000) is None


def test_a_connection_was_synced_once_any_of_its_own_accounts_was(engine: Engine, workspace_id: int) -> None:
    never = _connection(engine, workspace_id, None, None)
    _connection(engine, workspace_id, SYNCED)  # another connection's synced account does not count
    once = _connection(engine, workspace_id, None, SYNCED)
    summaries = [connection_of(engine, workspace_id, c) for c in (never, once)]
    assert [s.ever_synced if s else None for s in summaries] == [False, True]
