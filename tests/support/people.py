"""The people the sign-in tests make: every test account's password, and the moment they act at."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
PASSWORD = "correct horse battery"  # every test account's password
