"""When bank feeds sync: a workspace's schedule setting, read and reasoned about (pure).

The setting is a list of local times, ``"11:45,15:15,18:30"`` (the default), or
``"hourly"`` / ``"every 2 hours"``. Times are in the workspace's time zone, so a
sync at 11:45 happens at 11:45 in Budapest summer and winter alike.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_EVERY = re.compile(r"^(?:hourly|every\s+(\d{1,2})\s*h(?:ours?)?)$", re.IGNORECASE)


def sync_times(setting: str) -> list[time]:
    """Return the local times of day a schedule setting names, sorted.

    Raises ValueError naming the bad part when the setting cannot be read.
    """
    text = setting.strip()
    every = _EVERY.match(text)
    if every:
        step = int(every.group(1) or 1)
        if not 1 <= step <= 24:
            raise ValueError(f"sync schedule {setting!r}: every 1 to 24 hours")
        return [time(hour, 0) for hour in range(0, 24, step)]
    found = set()
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", part)
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError(f"sync schedule {setting!r}: {part!r} is not a time like 11:45")
        found.add(time(int(match.group(1)), int(match.group(2))))
    if not found:
        raise ValueError(f"sync schedule {setting!r}: name at least one time, like 11:45, or 'hourly'")
    return sorted(found)


def latest_slot(times: list[time], timezone: str, now: datetime) -> datetime:
    """Return the latest scheduled moment at or before ``now`` (aware), in the workspace's zone.

    A job that starts late (a busy process, a restart) still claims the slot it
    belongs to, so two processes never disagree about which run this is.
    """
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    for day in (local.date(), local.date() - timedelta(days=1)):
        for moment in sorted((datetime.combine(day, t, zone) for t in times), reverse=True):
            if moment <= local:
                return moment
    raise ValueError("a schedule needs at least one time")  # unreachable with a non-empty list
