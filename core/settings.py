"""Where reconbot keeps its data, read from the environment.

``RECONBOT_DATABASE_URL`` selects the database (PostgreSQL in production);
without it reconbot uses an SQLite file in ``RECONBOT_DATA_DIR`` or the
user's data folder, so a single-user install needs no configuration at all.

A database URL may carry a password: log or print only ``redacted_url(url)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DATABASE_URL_ENV = "RECONBOT_DATABASE_URL"
DATA_DIR_ENV = "RECONBOT_DATA_DIR"
SQLITE_FILENAME = "reconbot.sqlite3"

# Hosting platforms (Heroku, Render, Fly …) hand out ``postgres://`` URLs; SQLAlchemy
# reads those as "PostgreSQL with the default driver" (psycopg2, not installed) or
# rejects the ``postgres`` spelling outright. We ship psycopg 3, so name it.
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")
_POSTGRES_DRIVER_SCHEME = "postgresql+psycopg://"

# Query-string parameters that libpq and psycopg accept as secrets.
_SECRET_QUERY_KEYS = frozenset({"password", "sslpassword"})
_MASK = "***"


def data_dir() -> Path:
    """Return the folder for reconbot's local files, creating it if needed.

    ``RECONBOT_DATA_DIR`` when set, else ``platformdirs.user_data_dir("reconbot")``.
    Raises OSError when the folder cannot be created.
    """
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    path = Path(configured).expanduser() if configured else Path(platformdirs.user_data_dir("reconbot"))
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def normalise_database_url(url: str) -> str:
    """Return ``url`` with a bare ``postgres://`` or ``postgresql://`` scheme pointed at psycopg 3.

    Any other URL (SQLite, or PostgreSQL with an explicit driver) is returned unchanged.
    """
    url = url.strip()
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return _POSTGRES_DRIVER_SCHEME + url[len(scheme) :]
    return url


def database_url() -> str:
    """Return the SQLAlchemy URL of reconbot's database.

    ``RECONBOT_DATABASE_URL`` when set and not blank (normalised by
    ``normalise_database_url``); otherwise an SQLite file ``reconbot.sqlite3``
    in ``data_dir()``, whose folder is created. Raises OSError when that folder
    cannot be created.
    """
    configured = os.environ.get(DATABASE_URL_ENV, "").strip()
    if configured:
        return normalise_database_url(configured)
    return URL.create("sqlite", database=str(data_dir() / SQLITE_FILENAME)).render_as_string()


def redacted_url(url: str | URL) -> str:
    """Return ``url`` fit for logs and messages: any password (in userinfo or query) becomes ``***``.

    A string that does not parse as a URL is not echoed at all, since it might still hold a secret.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"
    secret_keys = [key for key in parsed.query if key.lower() in _SECRET_QUERY_KEYS]
    if secret_keys:
        parsed = parsed.update_query_dict({key: _MASK for key in secret_keys})
    # The query string is percent-encoded on rendering; show the mask as the userinfo one reads.
    return parsed.render_as_string(hide_password=True).replace("=%2A%2A%2A", f"={_MASK}")


PUBLIC_URL_ENV = "RECONBOT_PUBLIC_URL"
LISTEN_ENV = "RECONBOT_LISTEN"
DEFAULT_LISTEN = "127.0.0.1:8000"


def listen_address() -> tuple[str, int]:
    """Return the host and port ``reconbot run`` serves on (``RECONBOT_LISTEN``, default 127.0.0.1:8000).

    Raises ValueError when the setting is not ``host:port``.
    """
    value = os.environ.get(LISTEN_ENV, "").strip() or DEFAULT_LISTEN
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{LISTEN_ENV}={value!r}: expected host:port, e.g. 0.0.0.0:8000")
    return host, int(port)


def public_url() -> str:
    """Return the address users' browsers (and banks' redirects) reach reconbot at, without a trailing slash.

    ``RECONBOT_PUBLIC_URL`` when set (e.g. https://reconbot.example.com behind a proxy), else
    ``http://`` plus the listen address.
    """
    configured = os.environ.get(PUBLIC_URL_ENV, "").strip().rstrip("/")
    if configured:
        return configured
    host, port = listen_address()
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"


SLACK_API_URL_ENV = "RECONBOT_SLACK_API_URL"
TELEGRAM_API_URL_ENV = "RECONBOT_TELEGRAM_API_URL"


def slack_api_url() -> str:
    """Return the Slack Web API base URL, ending in ``/`` (``RECONBOT_SLACK_API_URL`` points it at a local fake)."""
    return (os.environ.get(SLACK_API_URL_ENV, "").strip() or "https://slack.com/api/").rstrip("/") + "/"


def telegram_api_url() -> str:
    """Return the Telegram Bot API server, without a trailing ``/`` (``RECONBOT_TELEGRAM_API_URL`` for a fake)."""
    return (os.environ.get(TELEGRAM_API_URL_ENV, "").strip() or "https://api.telegram.org").rstrip("/")


ARCHIVE_DIR_ENV = "RECONBOT_ARCHIVE_DIR"
ARCHIVE_S3_URL_ENV = "RECONBOT_ARCHIVE_S3_URL"
ARCHIVE_S3_BUCKET_ENV = "RECONBOT_ARCHIVE_S3_BUCKET"
ARCHIVE_S3_ACCESS_KEY_ENV = "RECONBOT_ARCHIVE_S3_ACCESS_KEY"
ARCHIVE_S3_SECRET_KEY_ENV = "RECONBOT_ARCHIVE_S3_SECRET_KEY"
ARCHIVE_S3_REGION_ENV = "RECONBOT_ARCHIVE_S3_REGION"


@dataclass(frozen=True, slots=True)
class S3Settings:
    """Where the invoice archive keeps PDFs when it uses S3-compatible object storage."""

    url: str  # the endpoint, e.g. https://s3.eu-central-1.amazonaws.com or a MinIO address
    bucket: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str = "us-east-1"


def archive_dir() -> Path:
    """Return the folder of archived invoice PDFs on local disk: ``RECONBOT_ARCHIVE_DIR``, else
    ``<data_dir>/archive``. The folder is created when the first file is stored."""
    configured = os.environ.get(ARCHIVE_DIR_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else data_dir() / "archive"


def archive_s3_settings() -> S3Settings | None:
    """Return the archive's object storage settings, or None when ``RECONBOT_ARCHIVE_S3_URL`` is not set
    (the archive then uses the local disk). Raises ValueError naming the missing setting when the URL is set
    without a bucket, access key or secret key."""
    url = os.environ.get(ARCHIVE_S3_URL_ENV, "").strip()
    if not url:
        return None
    values = {}
    for name in (ARCHIVE_S3_BUCKET_ENV, ARCHIVE_S3_ACCESS_KEY_ENV, ARCHIVE_S3_SECRET_KEY_ENV):
        values[name] = os.environ.get(name, "").strip()
        if not values[name]:
            raise ValueError(f"{ARCHIVE_S3_URL_ENV} is set, so {name} must be set too")
    region = os.environ.get(ARCHIVE_S3_REGION_ENV, "").strip() or "us-east-1"
    return S3Settings(url.rstrip("/"), values[ARCHIVE_S3_BUCKET_ENV], values[ARCHIVE_S3_ACCESS_KEY_ENV],
                      values[ARCHIVE_S3_SECRET_KEY_ENV], region)  # fmt: skip
