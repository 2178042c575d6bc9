"""Where command output goes, and in which locale amounts are written."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from babel import Locale, UnknownLocaleError

if TYPE_CHECKING:  # the file commands import this module and need no database
    from reconbot.core.services.workspaces import Workspace


def user_locale(default: str = "en") -> str:
    """Return the locale for amounts: ``RECONBOT_LOCALE``, else the environment's language, else ``default``."""
    for variable in ("RECONBOT_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "").split(".")[0]
        if value and value not in ("C", "POSIX"):
            try:
                return str(Locale.parse(value))
            except (ValueError, UnknownLocaleError):
                continue
    return default


def workspace_locale(workspace: Workspace) -> str:
    """Return the locale for the workspace's amounts: the user's (``user_locale``), else the workspace's own."""
    return user_locale(default=f"{workspace.language.value}_{workspace.country}")


@contextmanager
def output_file(path: Path | None) -> Iterator[TextIO]:
    """Yield the file to write to: ``path`` (written whole or not at all) or standard output."""
    if path is None:
        yield sys.stdout
        return
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as file:
            yield file
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
