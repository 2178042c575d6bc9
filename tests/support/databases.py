"""The test databases (a plugin of the root conftest): empty ones, migrated ones, an engine on one.

Every test taking ``database_url``, ``migrated_url`` or ``engine`` runs on SQLite and, when
``RECONBOT_TEST_DATABASE_URL`` is set (CI sets it), on PostgreSQL too (``DIALECTS``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

# When set (CI does), every test taking ``database_url`` or ``engine`` also runs on PostgreSQL.
TEST_DATABASE_URL_ENV = "RECONBOT_TEST_DATABASE_URL"
DIALECTS = ["sqlite", "postgresql"] if os.environ.get(TEST_DATABASE_URL_ENV, "").strip() else ["sqlite"]


@contextmanager
def _fresh_postgres_schema(server_url: str) -> Iterator[str]:
    """Create an empty schema ``t_<random>``, yield a URL whose connections use only it, drop it after.

    Parallel runs (CI jobs, developers) can share one server this way: nothing is created in ``public``
    and every run sees only its own tables.
    """
    # Imported here, not at the top, so a broken core package cannot stop the whole suite from collecting.
    from reconbot.core.settings import normalise_database_url

    server = make_url(normalise_database_url(server_url))
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        given = server.query.get("options", ())
        options = " ".join([*([given] if isinstance(given, str) else given), f"-csearch_path={schema}"])
        yield server.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            # A test that leaked a connection must not hang the whole run on the DROP.
            connection.exec_driver_sql("SET lock_timeout = '30s'")
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=DIALECTS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of an empty database: an SQLite file, and (with ``RECONBOT_TEST_DATABASE_URL``)
    a fresh PostgreSQL schema dropped after the test.
    """
    if request.param == "sqlite":
        yield URL.create("sqlite", database=str(tmp_path / "reconbot.sqlite3")).render_as_string()
        return
    with _fresh_postgres_schema(os.environ[TEST_DATABASE_URL_ENV]) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return an SQLite file migrated to head once per run, closed and checkpointed, for tests to copy."""
    from reconbot.core.persistence.database import create_engine_for
    from reconbot.core.persistence.schema import upgrade

    path = tmp_path_factory.mktemp("template") / "reconbot.sqlite3"
    engine = create_engine_for(URL.create("sqlite", database=str(path)))
    upgrade(engine)
    engine.dispose()
    # Everything into the main file, so that copying that one file copies the whole database.
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


class PostgresBooks:
    """One PostgreSQL database per run, migrated to head once, emptied for each test that asks for it.

    Emptying (every row deleted, every sequence back at 1) costs about 10 ms where a copy of a template
    database costs about 300 ms (it writes the whole catalogue to the WAL) and the migrations 250 ms.
    Before each test, any connection an earlier test left open is ended, so nothing of it can write into
    the next one; a test that changed the schema (a migration test dropping an index) is noticed by the
    schema's fingerprint and the database is built again. The name carries this process's id, so a run
    killed halfway leaves nothing the next run does not clear.
    """

    PREFIX = "rbt_"
    # Deletes with triggers (foreign keys) off, in one round trip; alembic_version keeps the revision.
    EMPTY = """
    DO $$
    DECLARE t text; s text;
    BEGIN
      SET LOCAL session_replication_role = replica;
      FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
        EXECUTE format('DELETE FROM %%I', t);
      END LOOP;
      FOR s IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
        PERFORM setval(format('%%I', s), 1, false);
      END LOOP;
    END $$
    """
    FINGERPRINT = """
    SELECT md5(coalesce((SELECT string_agg(indexdef, ';' ORDER BY indexdef) FROM pg_indexes
                         WHERE schemaname = 'public'), '')
               || coalesce((SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ';'
                                              ORDER BY table_name, column_name)
                            FROM information_schema.columns WHERE table_schema = 'public'), '')
               || coalesce((SELECT string_agg(version_num, ';') FROM alembic_version), ''))
    """

    def __init__(self, server_url: str) -> None:
        from reconbot.core.settings import normalise_database_url

        self.server = make_url(normalise_database_url(server_url))
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.name = f"{self.PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
        # Tests never crash the server: commits need not wait for the disk.
        self.url = (
            self.server.set(database=self.name)
            .update_query_dict({"options": "-csynchronous_commit=off"})
            .render_as_string(hide_password=False)
        )
        self.owner = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.fingerprint = ""

    def build(self) -> None:
        from reconbot.core.persistence.database import create_engine_for
        from reconbot.core.persistence.schema import upgrade

        self._drop_left_over()
        self._admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        self._admin(f"CREATE DATABASE {self.name}")
        engine = create_engine_for(self.url)
        upgrade(engine)
        engine.dispose()
        with self.owner.connect() as connection:
            self.fingerprint = connection.exec_driver_sql(self.FINGERPRINT).scalar_one()

    def emptied(self) -> str:
        """Return the URL of the database with no rows and no other connection (rebuilt if a test changed it)."""
        with self.owner.connect() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            changed = connection.exec_driver_sql(self.FINGERPRINT).scalar_one() != self.fingerprint
            if not changed:
                connection.exec_driver_sql(self.EMPTY)
        if changed:
            self.owner.dispose()
            self.build()
        return self.url

    def close(self) -> None:
        self.owner.dispose()
        self._admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        self.admin.dispose()

    def _drop_left_over(self) -> None:
        """Drop the databases of runs whose process is gone (killed before their own clean-up)."""
        with self.admin.connect() as connection:
            names = connection.exec_driver_sql(
                "SELECT datname FROM pg_database WHERE datname LIKE %(prefix)s", {"prefix": f"{self.PREFIX}%"}
            ).scalars()
            for name in list(names):
                pid = name[len(self.PREFIX) :].split("_")[0]
                if pid.isdigit() and not _process_alive(int(pid)):
                    connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _admin(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(statement)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def postgres_books() -> Iterator[PostgresBooks]:
    """Return the run's migrated PostgreSQL database (only built when a test asks for PostgreSQL)."""
    books = PostgresBooks(os.environ[TEST_DATABASE_URL_ENV])
    books.build()
    yield books
    books.close()


@pytest.fixture(params=DIALECTS)
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of a database migrated to head that holds nothing yet: a copy of a file migrated once
    per run (SQLite), or the run's PostgreSQL database emptied."""
    if request.param == "sqlite":
        path = tmp_path / "reconbot.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), path)
        return URL.create("sqlite", database=str(path)).render_as_string()
    books: PostgresBooks = request.getfixturevalue("postgres_books")
    return books.emptied()


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """Return an engine on a database of the test's own, migrated to head; disposed after the test."""
    from reconbot.core.persistence.database import create_engine_for

    engine = create_engine_for(migrated_url)
    yield engine
    engine.dispose()
