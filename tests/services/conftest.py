"""Fixtures of the service tests: the bare workspace "acme" (every setting at its default), and files to import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from reconbot.core.persistence.database import session_scope
from reconbot.core.services.workspaces import ensure_workspace


@pytest.fixture
def acme_workspace(engine: Engine) -> int:
    """Return the id of the workspace "acme", created with every setting at its default."""
    with session_scope(engine) as session:
        workspace = ensure_workspace(session, "acme")
    assert workspace.id is not None
    return workspace.id


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Return a function that writes a file into the test's folder and returns its path."""

    def write_file(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write_file
