"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

REPO = Path(__file__).resolve().parents[1]

# When set (CI does), every test taking ``database_url`` or ``engine`` also runs on PostgreSQL.
TEST_DATABASE_URL_ENV = "RECONBOT_TEST_DATABASE_URL"
DIALECTS = ["sqlite", "postgresql"] if os.environ.get(TEST_DATABASE_URL_ENV, "").strip() else ["sqlite"]


@pytest.fixture(autouse=True)
def secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Encrypt stored credentials with a key of the test's own, never the user's data folder."""
    from cryptography.fernet import Fernet

    monkeypatch.setenv("RECONBOT_SECRET_KEY", Fernet.generate_key().decode())


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Return ``../shared`` (or ``$RECONBOT_SHARED_DIR``): the corpus and references beside the repo.

    Outside CI a missing folder skips the tests that need it; in CI it fails them,
    so a broken checkout can never pass by skipping.
    """
    path = Path(os.environ.get("RECONBOT_SHARED_DIR", REPO.parent / "shared"))
    if not (path / "corpus").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{path}/corpus is missing; CI must run with ../shared beside the clone")
        pytest.skip(f"{path}/corpus not found")
    return path


@contextmanager
def _fresh_postgres_schema(server_url: str) -> Iterator[str]:
    """Create an empty schema ``t_<random>``, yield a URL whose connections use only it, drop it after.

    Parallel runs (CI jobs, xdist workers, developers) can share one server this way:
    nothing is created in ``public`` and every run sees only its own tables.
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


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Return an engine on ``database_url``, migrated to head; disposed after the test."""
    from reconbot.core.persistence.database import create_engine_for
    from reconbot.core.persistence.schema import upgrade

    engine = create_engine_for(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
