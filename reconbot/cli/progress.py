"""A progress bar on stderr for long imports, shown only to a person at a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from reconbot.core.progress import Progress as ProgressFn
from reconbot.core.progress import no_progress


@contextmanager
def terminal_progress() -> Iterator[ProgressFn]:
    """Yield a progress callback that draws on stderr when it is a terminal, and does nothing otherwise."""
    if not sys.stderr.isatty():
        yield no_progress
        return
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    )
    tasks: dict[str, TaskID] = {}

    def report(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bar.add_task(step, total=total)
        bar.update(tasks[step], completed=done, total=total)

    with bar:
        yield report
