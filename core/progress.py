"""Progress reporting for long runs, without tying the core to a terminal."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Told how far a long step has come; the CLI draws a bar, tests may record it."""

    def __call__(self, step: str, done: int, total: int) -> None: ...


def no_progress(step: str, done: int, total: int) -> None:
    """Ignore progress reports."""
    del step, done, total
