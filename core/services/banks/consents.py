"""The consent lifecycle: reminders before a bank consent ends, and marking it expired when it has.

A reminder is due ``d`` days before the end for each configured ``d`` (8 and 2 by
default), counted in calendar days of the workspace's time zone; each one is an
outbox event with a dedupe key naming the consent's end and ``d``, so it is sent
exactly once however often the check runs, and a renewed consent (a new end)
gets its own reminders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from reconbot.core.banks.errors import ConsentExpiredError, ProviderError
from reconbot.core.banks.model import ConsentState
from reconbot.core.persistence.bank_tables import BankConnectionRecord, ConnectionStatus
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import WorkspaceRecord
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.events import EventKind, audit, emit


def reminder_days(setting: str) -> list[int]:
    """Return the reminder days of a workspace setting such as ``"8,2"``, largest first.

    Raises ValueError naming the bad part when one is not a positive whole number.
    """
    days = []
    for part in setting.replace(";", ",").split(","):
        if not part.strip():
            continue
        if not part.strip().isdigit() or int(part) <= 0:
            raise ValueError(f"reminder days {setting!r}: {part.strip()!r} is not a positive whole number of days")
        days.append(int(part))
    return sorted(set(days), reverse=True)


def days_left(valid_until: datetime, today: date, timezone: str) -> int:
    """Return the calendar days from ``today`` to the consent's last day, in the workspace's time zone."""
    return (valid_until.astimezone(ZoneInfo(timezone)).date() - today).days


def due_reminder(left: int, days: list[int]) -> int | None:
    """Return the reminder due with ``left`` days to go: the tightest threshold reached, or None.

    With 8 and 2: 8 days left → 8; 5 → 8 (already sent, deduplicated); 2 → 2; a consent
    created with 1 day left gets only the 2-day reminder, not a stale 8-day one.
    """
    reached = [d for d in days if left <= d]
    return min(reached) if reached else None


@dataclass(frozen=True, slots=True)
class ConsentCheck:
    reminders: int = 0
    expired: int = 0


def expire_connection(session: Session, connection: BankConnectionRecord, now: datetime, reason: str) -> None:
    """Mark the connection expired and queue the "consent expired" event (once per consent), in ``session``."""
    if connection.status is not ConnectionStatus.ACTIVE:
        return
    connection.status = ConnectionStatus.EXPIRED
    connection.expired_at = now
    valid_until = connection.consent_valid_until.isoformat() if connection.consent_valid_until else ""
    audit(session, connection.workspace_id, "bank", "bank_connection.expired", "bank_connection", connection.id,
          reason=reason)  # fmt: skip
    emit(
        session,
        connection.workspace_id,
        EventKind.CONSENT_EXPIRED,
        f"consent_expired:{connection.id}:{valid_until}",
        {
            "connection_id": connection.id,
            "bank": connection.institution_name,
            "valid_until": valid_until,
            "reason": reason,
        },
    )


async def check_consents(feeds: BankFeeds, *, ask_provider: bool = True) -> ConsentCheck:
    """Send the reminders that are due and expire ended consents, in every workspace; return the counts.

    With ``ask_provider`` each active consent's status is also asked of its provider,
    so one the owner revoked at the bank is noticed before its end date.
    """
    now = feeds.clock()
    with Session(feeds.engine) as session:
        active = [
            (connection.id, connection.workspace_id, connection.provider, connection.consent_reference)
            for connection in session.exec(
                select(BankConnectionRecord).where(col(BankConnectionRecord.status) == ConnectionStatus.ACTIVE)
            )
        ]
    revoked: dict[int, str] = {}
    if ask_provider:
        for connection_id, workspace_id, provider_name, reference in active:
            assert connection_id is not None
            if reference:
                reason = await _ended_at_provider(feeds, workspace_id, provider_name, reference)
                if reason:
                    revoked[connection_id] = reason
    reminders = expired = 0
    with session_scope(feeds.engine) as session:
        workspaces = {w.id: w for w in session.exec(select(WorkspaceRecord))}
        for connection in session.exec(
            select(BankConnectionRecord).where(col(BankConnectionRecord.status) == ConnectionStatus.ACTIVE)
        ):
            assert connection.id is not None and connection.consent_valid_until is not None
            workspace = workspaces[connection.workspace_id]
            if connection.consent_valid_until <= now or connection.id in revoked:
                expire_connection(session, connection, now, revoked.get(connection.id, "the consent period ended"))
                expired += 1
                continue
            left = days_left(connection.consent_valid_until, now.astimezone(ZoneInfo(workspace.timezone)).date(),
                             workspace.timezone)  # fmt: skip
            due = due_reminder(left, reminder_days(workspace.consent_reminder_days))
            if due is not None:
                until = connection.consent_valid_until.isoformat()
                reminders += emit(
                    session,
                    connection.workspace_id,
                    EventKind.CONSENT_EXPIRING,
                    f"consent_expiring:{connection.id}:{until}:{due}",
                    {
                        "connection_id": connection.id,
                        "bank": connection.institution_name,
                        "valid_until": until,
                        "days_left": left,
                        "reminder": due,
                    },
                )
    return ConsentCheck(reminders, expired)


async def _ended_at_provider(feeds: BankFeeds, workspace_id: int, provider_name: str, reference: str) -> str:
    """Return why the provider says the consent ended, or "" while it is valid (or the provider cannot say)."""
    try:
        provider = feeds.provider(workspace_id, provider_name)
    except ProviderError:
        return ""
    try:
        status = await provider.consent_status(reference)
    except ConsentExpiredError as exc:
        return str(exc)
    except ProviderError:
        return ""  # an outage is not an expiry; the sync reports it
    finally:
        await provider.aclose()
    if status.state in (ConsentState.EXPIRED, ConsentState.REVOKED):
        return f"the bank reports the consent {status.state.value}"
    return ""
