"""One action, one transaction: all or nothing, and concurrent writers queue instead of colliding."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlalchemy.engine import URL
from sqlmodel import select

from reconbot.core.persistence.database import SQLITE_BUSY_TIMEOUT_SECONDS, create_engine_for, session_scope
from reconbot.core.persistence.schema import ForeignKeyViolation, upgrade
from reconbot.core.persistence.tables import (
    AuditEventRecord,
    BankAccountRecord,
    BankTransactionRecord,
    WorkspaceRecord,
)
from tests.persistence.factories import add_account, add_transaction, add_workspace


class Boom(Exception):
    """A failure in the middle of a unit of work."""


def count(engine: Engine, model: type[object]) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def run_in_threads(*targets: Callable[[], None]) -> list[BaseException]:
    """Run the targets at once; return what they raised."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SQLITE_BUSY_TIMEOUT_SECONDS * 2)
        assert not thread.is_alive(), "a writer hung"
    return errors


def test_session_scope_commits_and_objects_stay_readable(engine: Engine) -> None:
    with session_scope(engine) as session:
        workspace = add_workspace(session)
    assert workspace.slug == "acme"  # not expired by the commit
    assert count(engine, WorkspaceRecord) == 1


def test_session_scope_rolls_back_everything_on_an_exception(engine: Engine) -> None:
    with pytest.raises(Boom), session_scope(engine) as session:
        workspace = add_workspace(session)
        add_transaction(session, add_account(session, workspace))
        assert workspace.id is not None
        session.add(AuditEventRecord(workspace_id=workspace.id, actor="t", action="x", entity_type="y", entity_id="1"))
        session.flush()  # everything has reached the database...
        raise Boom  # ...and still nothing stays
    for model in (WorkspaceRecord, BankAccountRecord, BankTransactionRecord, AuditEventRecord):
        assert count(engine, model) == 0


def test_read_modify_write_with_row_lock_loses_no_update(engine: Engine) -> None:
    # The pattern services should use on every dialect: lock the row you are about to change.
    with session_scope(engine) as session:
        transaction_id = add_transaction(session, add_account(session, add_workspace(session))).id

    def allocate_ten_times() -> None:
        for _ in range(10):
            with session_scope(engine) as session:
                query = select(BankTransactionRecord).where(BankTransactionRecord.id == transaction_id)
                row = session.exec(query.with_for_update()).one()
                row.allocated = row.allocated + Decimal("1.25")

    assert run_in_threads(allocate_ten_times, allocate_ten_times, allocate_ten_times) == []
    with session_scope(engine) as session:
        stored = session.get(BankTransactionRecord, transaction_id)
        assert stored is not None and stored.allocated == Decimal("37.50")


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """Return an SQLite engine migrated to head (for what only SQLite needs: its locking and pragmas)."""
    engine = create_engine_for(URL.create("sqlite", database=str(tmp_path / "reconbot.sqlite3")))
    upgrade(engine)
    yield engine
    engine.dispose()


def test_sqlite_connections_are_set_up(sqlite_engine: Engine) -> None:
    # This is the connection the migrations used too: their foreign_keys=OFF must have been undone.
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_SECONDS * 1000


def test_sqlite_transactions_take_the_write_lock_up_front(sqlite_engine: Engine) -> None:
    database = sqlite_engine.url.database
    assert database is not None
    with session_scope(sqlite_engine) as session:
        session.exec(select(WorkspaceRecord)).all()  # only a read so far
        other = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


def test_sqlite_read_modify_write_is_serialised_without_row_locks(sqlite_engine: Engine) -> None:
    # Without BEGIN IMMEDIATE the second reader would see 0 too, and its write would then fail
    # with "database is locked" (or, worse elsewhere, overwrite the first one's update).
    with session_scope(sqlite_engine) as session:
        transaction_id = add_transaction(session, add_account(session, add_workspace(session))).id
    first_has_read = threading.Event()
    seen: dict[str, Decimal] = {}

    def read_then_write(name: str, pause: float) -> None:
        with session_scope(sqlite_engine) as session:
            row = session.get(BankTransactionRecord, transaction_id)
            assert row is not None
            seen[name] = row.allocated
            first_has_read.set()
            time.sleep(pause)  # hold the transaction open while the other one tries to start
            row.allocated = row.allocated + Decimal("100")

    def second() -> None:
        first_has_read.wait(timeout=5)
        read_then_write("second", 0)

    assert run_in_threads(lambda: read_then_write("first", 0.3), second) == []
    assert seen == {"first": Decimal(0), "second": Decimal(100)}
    with session_scope(sqlite_engine) as session:
        stored = session.get(BankTransactionRecord, transaction_id)
        assert stored is not None and stored.allocated == Decimal(200)


def test_sqlite_many_concurrent_writers_never_see_database_is_locked(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        transaction_id = add_transaction(session, add_account(session, add_workspace(session))).id

    def increment_twenty_times() -> None:
        for _ in range(20):
            with session_scope(sqlite_engine) as session:
                row = session.get(BankTransactionRecord, transaction_id)
                assert row is not None
                row.allocated = row.allocated + Decimal("0.01")

    assert run_in_threads(*[increment_twenty_times] * 4) == []
    with session_scope(sqlite_engine) as session:
        stored = session.get(BankTransactionRecord, transaction_id)
        assert stored is not None and stored.allocated == Decimal("0.80")


def test_sqlite_migrations_refuse_to_commit_over_broken_foreign_keys(sqlite_engine: Engine) -> None:
    database = sqlite_engine.url.database
    assert database is not None
    raw = sqlite3.connect(database)  # foreign keys off: how a broken file could come to exist
    raw.execute(
        "INSERT INTO bank_account (workspace_id, iban, currency, name, created_at)"
        " VALUES (999, '', 'HUF', '', '2025-01-01 00:00:00')"
    )
    raw.commit()
    raw.close()
    with pytest.raises(ForeignKeyViolation, match="bank_account"):
        upgrade(sqlite_engine)
