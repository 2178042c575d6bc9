"""Engines and transactions: the one place that decides how reconbot talks to its database.

Services open transactions only through ``session_scope``; nothing else calls
``commit()``. That keeps "one user action = one transaction" easy to see and
means a failure never leaves half an import or half a pairing behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

# How long an SQLite writer waits for another one to finish before failing with
# "database is locked". Transactions here are short (an import, a pairing), so
# seconds would do; the margin covers a slow disk or a large import.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


def create_engine_for(url: str | URL, *, echo: bool = False) -> Engine:
    """Return an Engine for ``url`` set up for reconbot's transaction rules.

    SQLite: WAL journal (readers do not block the writer), foreign keys enforced,
    a busy timeout, and every transaction started with ``BEGIN IMMEDIATE`` (see
    ``_sqlite_begin_immediate``). PostgreSQL: connections are checked before use
    (``pool_pre_ping``) so a restarted server costs a reconnect, not an error.
    Raises ``sqlalchemy.exc.ArgumentError`` for a malformed URL.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            echo=echo,
            # sqlite3's own busy handler; the PRAGMA below repeats it so it is visible in the connection.
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(parsed, echo=echo, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    # The documented SQLAlchemy recipe for pysqlite: take BEGIN away from the driver (which
    # would otherwise emit a deferred BEGIN only before INSERT/UPDATE/DELETE, and none before
    # SELECT) so that _sqlite_begin_immediate decides how every transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # These must run outside a transaction, which is why they live here and not in "begin".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite, per connection
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
    finally:
        cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    # BEGIN IMMEDIATE takes the write lock before the first read. With a plain (deferred)
    # BEGIN two transactions can both read "invoice open: 100", then one upgrades to a write
    # lock and the other fails with "database is locked" (SQLite cannot wait there without
    # deadlocking), or, in WAL mode, would write from a stale snapshot. Taking the lock up
    # front makes writers queue behind each other within the busy timeout, so
    # read-modify-write inside session_scope cannot over-allocate. The cost, that readers
    # queue too, is fine for a few users of one small business.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a Session whose work is one transaction: committed on normal exit, rolled back on any exception.

    The exception is re-raised after the rollback. Objects stay readable after the block
    (``expire_on_commit=False``), so a service can return what it stored.

    On SQLite the transaction holds the write lock from its first statement, so
    read-modify-write is safe as written. On PostgreSQL (READ COMMITTED) a
    read-modify-write of a shared row must lock it: ``select(...).with_for_update()``.
    """
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
