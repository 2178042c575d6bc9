"""The suite's clock and sleep (a plugin of the root conftest): every test that asks gets its own of each.

A test that needs another start time sets ``clock.now`` or overrides ``clock`` in its module with a
``FakeClock(...)`` of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fakes.clock import FakeClock, RecordingSleep

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # where ``clock`` starts: a Monday morning


@pytest.fixture
def clock() -> FakeClock:
    """Return the time the services see, at ``MONDAY``; tests move it."""
    return FakeClock(MONDAY)


@pytest.fixture
def sleeps() -> RecordingSleep:
    """Return a ``sleep`` recording the waits (retries, backoff) instead of waiting."""
    return RecordingSleep()
