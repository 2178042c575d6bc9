"""Whether reconbot's database answers: what ``/healthz`` reports to a load balancer or container runtime."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)


def database_answers(engine: Engine) -> bool:
    """Return True when the database answers a trivial query, False on any failure (logged, never raised)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"; the reason goes to the log, not the caller
        log.warning("the database does not answer", exc_info=True)
        return False
    return True
