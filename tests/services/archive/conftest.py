"""Fixtures of the archive service tests: a workspace with issued invoices (one paid), and a local-disk storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from reconbot.core.archive.storage import LocalDiskStorage
from tests.support.archive import Books


@pytest.fixture
def books(engine: Engine, workspace_id: int) -> Books:
    """Here ``books`` write the invoices and payments the archive files (``tests/support/archive.py``)."""
    return Books(engine, workspace_id)


@pytest.fixture
def storage(tmp_path: Path) -> LocalDiskStorage:
    return LocalDiskStorage(tmp_path / "archive")
