"""Where the database URL comes from, and that passwords never leak into what we print."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest
from sqlalchemy.engine import make_url

from reconbot.core.settings import database_url, normalise_database_url, redacted_url


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECONBOT_DATABASE_URL", raising=False)
    monkeypatch.delenv("RECONBOT_DATA_DIR", raising=False)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:pw@db.example:5432/rb", "postgresql+psycopg://u:pw@db.example:5432/rb"),
        ("postgresql://u@localhost/rb?sslmode=require", "postgresql+psycopg://u@localhost/rb?sslmode=require"),
        ("postgresql+psycopg://u@localhost/rb", "postgresql+psycopg://u@localhost/rb"),
        ("  postgres://u@h/rb\n", "postgresql+psycopg://u@h/rb"),
        ("sqlite:////var/lib/reconbot/db.sqlite3", "sqlite:////var/lib/reconbot/db.sqlite3"),
    ],
)
def test_configured_url_is_normalised(monkeypatch: pytest.MonkeyPatch, given: str, expected: str) -> None:
    monkeypatch.setenv("RECONBOT_DATABASE_URL", given)
    assert database_url() == expected
    assert normalise_database_url(given) == expected


def test_without_url_sqlite_file_in_data_dir_is_created(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "there yet"
    monkeypatch.setenv("RECONBOT_DATA_DIR", str(data_dir))
    url = make_url(database_url())
    assert url.get_backend_name() == "sqlite"
    assert url.database == str(data_dir / "reconbot.sqlite3")
    assert data_dir.is_dir()


def test_blank_url_counts_as_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RECONBOT_DATABASE_URL", "   ")
    monkeypatch.setenv("RECONBOT_DATA_DIR", str(tmp_path))
    assert database_url().startswith("sqlite:///")


def test_default_data_dir_is_the_users(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home_data = tmp_path / "home-data"
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda appname: str(home_data / appname))
    assert make_url(database_url()).database == str(home_data / "reconbot" / "reconbot.sqlite3")
    assert (home_data / "reconbot").is_dir()


def test_relative_data_dir_becomes_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECONBOT_DATA_DIR", "data")
    assert make_url(database_url()).database == str(tmp_path / "data" / "reconbot.sqlite3")


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql+psycopg://rb:s3cr3t@db.example/rb", "s3cr3t"),
        ("postgres://rb:p%40ss@db.example/rb", "p%40ss"),
        ("postgresql+psycopg://rb@db.example/rb?password=s3cr3t&sslmode=require", "s3cr3t"),
        ("postgresql+psycopg://rb@db.example/rb?sslpassword=keypass", "keypass"),
    ],
)
def test_redacted_url_hides_passwords(url: str, secret: str) -> None:
    shown = redacted_url(url)
    assert secret not in shown
    assert "***" in shown
    assert "db.example" in shown


def test_redacted_url_keeps_urls_without_secrets() -> None:
    assert redacted_url("sqlite:////tmp/reconbot.sqlite3") == "sqlite:////tmp/reconbot.sqlite3"
    assert redacted_url("postgresql+psycopg://rb@h/rb?sslmode=require") == (
        "postgresql+psycopg://rb@h/rb?sslmode=require"
    )


def test_redacted_url_never_echoes_what_it_cannot_parse() -> None:
    assert "hunter2" not in redacted_url("not a url hunter2")
