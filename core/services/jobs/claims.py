"""Claims on scheduled work, so that a second process or a restart never does the same work twice.

A job names its unit of work with a key (``sync:12:2026-11-21T11:45+01:00``); the
process that inserts the key does the work, the others skip it. A claim whose
process crashed before finishing can be taken over once it is ``STALE_AFTER``
old: the work is idempotent (deduplicated storage, deduplicated events), so
redoing half-done work is safe, while skipping it would lose it.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, select

from reconbot.core.persistence.bank_tables import JobClaimRecord
from reconbot.core.persistence.bulk import insert_unless_present
from reconbot.core.persistence.database import session_scope

STALE_AFTER = timedelta(minutes=30)


def _process_name() -> str:
    """Return this process's name in claims: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(engine: Engine, key: str, now: datetime, owner: str | None = None) -> bool:
    """Take the work ``key``; return False when another process has it or it was done already."""
    owner = owner or _process_name()
    with session_scope(engine) as session:
        if insert_unless_present(session, JobClaimRecord, {"key": key, "owner": owner, "claimed_at": now,
                                                           "outcome": ""}, ["key"]):  # fmt: skip
            return True
        row = session.exec(select(JobClaimRecord).where(col(JobClaimRecord.key) == key).with_for_update()).one()
        if row.finished_at is None and row.claimed_at < now - STALE_AFTER:
            row.owner, row.claimed_at = owner, now  # its process died mid-work: take it over
            return True
        return False


def finish(engine: Engine, key: str, now: datetime, outcome: str) -> None:
    """Mark the work ``key`` done, with a short description of how it went."""
    with session_scope(engine) as session:
        row = session.exec(select(JobClaimRecord).where(col(JobClaimRecord.key) == key)).one()
        row.finished_at, row.outcome = now, outcome[:1000]
