"""Time and waiting under a test's control: a settable clock and a ``sleep`` that records instead of waiting.

These are the suite's only clock and sleep; the ``clock`` and ``sleeps`` fixtures (``tests/support/clock.py``)
hand every test one of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class FakeClock:
    """A settable aware-UTC clock; share it between a fake server and the code under test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def seconds(self) -> float:
        """Return the time in seconds: a stand-in for ``time.monotonic`` where a fake counts in seconds."""
        return self.now.timestamp()


@dataclass
class RecordingSleep:
    """A ``sleep`` that records the waits asked for instead of waiting.

    Given a ``clock``, each wait also moves that clock on by the time asked for (time passes only while the code
    under test sleeps).
    """

    waits: list[float] = field(default_factory=list)
    clock: FakeClock | None = None

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds=seconds)
