"""Time and waiting under a test's control: a settable clock and a ``sleep`` that records instead of waiting."""

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


@dataclass
class RecordingSleep:
    """A ``sleep`` that records the waits asked for instead of waiting."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
