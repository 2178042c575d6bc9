"""The command line as a user types it: run ``reconbot <argv>`` in the test's process and capture what it says."""

from __future__ import annotations

import pytest

from reconbot.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``reconbot`` with ``argv``; return its exit code, its output and its error output."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
