"""The layers keep to their jobs (README, "Architecture"): read from the code's own imports.

* Only ``core/services`` opens database sessions and transactions; ``core/persistence`` defines them.
  Everything else (the other parts of ``core``, ``handlers``, ``bot``, ``admin``, the command line and
  ``reconbot run``) calls services and never imports a session, a query builder or a table record.
* ``core`` knows nothing of chat platforms, web frameworks or the layers above it.
* ``handlers`` know no wire format: no Slack, Telegram or web framework.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("core", "handlers", "bot", "admin", "reconbot")

# What opens or shapes database work: sessions, transactions, query builders.
DATABASE_NAMES = {
    "sqlmodel": {"Session", "select", "col", "func", "delete", "update", "insert", "text", "and_", "or_"},
    "sqlalchemy": {"select", "update", "delete", "insert", "func", "text", "and_", "or_", "ColumnElement"},
    "sqlalchemy.orm": {"Session", "sessionmaker"},
    "reconbot.core.persistence.database": {"session_scope"},
}
PLATFORMS = ("aiohttp", "slack_bolt", "slack_sdk", "aiogram", "jinja2", "prometheus_client")


def _modules(*folders: str) -> Iterator[tuple[str, ast.Module]]:
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*.py")):
            if path.is_symlink() or any(part.is_symlink() for part in path.parents if REPO in part.parents):
                continue
            rel = path.relative_to(REPO).as_posix()
            if "/migrations/" in rel:
                continue
            yield rel, ast.parse(path.read_text(), rel)


def _imports(tree: ast.Module) -> Iterator[tuple[str, str, int]]:
    """Yield (module, name, line) for each ``from module import name`` and (module, "", line) for ``import``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.module, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, "", node.lineno


def _outside_services() -> Iterator[tuple[str, ast.Module]]:
    for rel, tree in _modules(*PRODUCT):
        if not rel.startswith(("core/services/", "core/persistence/")):
            yield rel, tree


def test_only_services_open_database_sessions_or_build_queries() -> None:
    found = [
        f"{rel}:{line} imports {name} from {module}"
        for rel, tree in _outside_services()
        for module, name, line in _imports(tree)
        if name in DATABASE_NAMES.get(module, ())
    ]
    assert found == []


def test_only_services_touch_table_records() -> None:
    found = [
        f"{rel}:{line} imports {name}"
        for rel, tree in _outside_services()
        for module, name, line in _imports(tree)
        if module.startswith("reconbot.core.persistence") and name.endswith("Record")
    ]
    assert found == []


def test_core_knows_no_platform_web_framework_or_upper_layer() -> None:
    upper = ("reconbot.handlers", "reconbot.bot", "reconbot.admin", "reconbot.cli", "reconbot.serve")
    found = [
        f"{rel}:{line} imports {module}"
        for rel, tree in _modules("core")
        for module, _, line in _imports(tree)
        if module.split(".")[0] in PLATFORMS or module.startswith(upper)
    ]
    assert found == []


def test_handlers_know_no_wire_format_and_nothing_above_them() -> None:
    above = ("reconbot.bot", "reconbot.admin", "reconbot.cli", "reconbot.serve")
    found = [
        f"{rel}:{line} imports {module}"
        for rel, tree in _modules("handlers")
        for module, _, line in _imports(tree)
        if module.split(".")[0] in PLATFORMS or module.startswith(above)
    ]
    assert found == []


@pytest.mark.parametrize("layer", ["core", "handlers", "bot", "admin"])
def test_the_package_links_each_layer_folder(layer: str) -> None:
    link = REPO / "reconbot" / layer
    assert link.is_symlink() and link.resolve() == (REPO / layer).resolve()
