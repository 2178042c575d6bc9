"""Bring a database to the schema this release expects, with the Alembic migrations shipped in the package.

Alembic is configured in code (no alembic.ini): ``alembic_config`` points it at
``core/persistence/migrations``, which is installed with the package, so
``pip install reconbot`` followed by ``reconbot db upgrade`` works anywhere.

Every migration run is one transaction on both dialects (PostgreSQL and SQLite
both have transactional DDL), so a failed upgrade leaves the previous schema intact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from reconbot.core.persistence.database import create_engine_for

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any 64-bit number works as long as every reconbot process uses the same one;
# this is "reconbot" in ASCII, so it is recognisable in pg_locks.
ADVISORY_LOCK_KEY = 0x7265636F6E626F74


class ForeignKeyViolation(RuntimeError):
    """A migration left rows whose foreign keys point nowhere (SQLite checks them only at the end)."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic Config for the packaged migrations, bound to ``connection`` when given.

    Useful for Alembic commands the helpers here do not wrap (``command.history``,
    ``command.revision``); env.py refuses to run without a connection.
    """
    config = Config()
    # The Config is ConfigParser-backed: a literal "%" in a path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """Return the newest revision id shipped with this release (None if there are no migrations)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(target: Engine | str | URL, revision: str = "head") -> None:
    """Migrate the database at ``target`` (an Engine or a URL) up to ``revision``; a no-op when already there.

    Safe to call from several processes at once: on PostgreSQL they queue on an
    advisory lock, on SQLite on the write lock, and the later ones find nothing to do.
    Raises whatever the failing migration raised, after rolling it all back.
    """
    _migrate(target, lambda config: command.upgrade(config, revision))


def downgrade(target: Engine | str | URL, revision: str) -> None:
    """Migrate the database at ``target`` down to ``revision`` (``"base"`` drops every table).

    Raises whatever the failing migration raised, after rolling it all back.
    """
    _migrate(target, lambda config: command.downgrade(config, revision))


def make_revision(target: Engine | str | URL, message: str, *, autogenerate: bool = True) -> None:
    """Write a new migration file comparing ``tables.metadata`` with the database at ``target``.

    For developers: point it at a database upgraded to head, then read and tidy the result.
    """

    def run(config: Config) -> None:
        command.revision(config, message=message, autogenerate=autogenerate)

    _migrate(target, run)


@contextmanager
def _engine(target: Engine | str | URL) -> Iterator[Engine]:
    # Use the caller's engine as is; an engine we create for a URL is ours to dispose.
    if isinstance(target, Engine):
        yield target
        return
    engine = create_engine_for(target)
    try:
        yield engine
    finally:
        engine.dispose()


def _migrate(target: Engine | str | URL, run: Callable[[Config], None]) -> None:
    with _engine(target) as engine, engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite's documented procedure for schema changes: foreign keys off (only possible
            # outside a transaction), change, check, commit, foreign keys on. Otherwise a batch
            # migration that rebuilds a referenced table would fail on its DROP TABLE.
            _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Held until commit: a second process starting at the same moment waits here,
                    # then sees the new alembic_version and has nothing to do.
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
                run(alembic_config(connection))
                if sqlite:
                    _check_sqlite_foreign_keys(connection)
        finally:
            if sqlite:
                _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")


def _sqlite_pragma(connection: Connection, statement: str) -> None:
    # On the DBAPI connection directly: through SQLAlchemy it would start a transaction
    # first (BEGIN IMMEDIATE), and SQLite ignores PRAGMA foreign_keys inside one.
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is None:
        raise RuntimeError("the database connection was closed during the migration")
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if violations:
        sample = ", ".join(f"{row[0]} row {row[1]} -> {row[2]}" for row in violations[:5])
        raise ForeignKeyViolation(f"{len(violations)} foreign key violation(s) after migrating: {sample}")
