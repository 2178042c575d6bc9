"""A workspace's matching and bank-feed settings: automatic pairing, sync schedule, consent reminders, history.

Checked with the same readers the scheduler and the consent check use (``reconbot.core.sync_times.sync_times``,
``reconbot.core.services.banks.consents.reminder_days``), so a setting stored here is one they can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session

from reconbot.core.errors import ReconciliationError
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import WorkspaceRecord
from reconbot.core.services.banks.consents import reminder_days
from reconbot.core.services.events import audit
from reconbot.core.services.workspaces import lock_workspace
from reconbot.core.sync_times import sync_times

MIN_HISTORY_DAYS, MAX_HISTORY_DAYS = 1, 730  # as `reconbot bank settings --history-days` allows
# Above 10 % a "fee" is really a partial payment, and reading it as paid would hide money still owed.
MAX_TOLERANCE = Decimal("0.10")


@dataclass(frozen=True, slots=True)
class MatchingSettings:
    auto_match: bool
    sync_times: str
    timezone: str
    reminder_days: str
    history_days: int
    amount_tolerance: Decimal  # the share of an invoice a payment may fall short by and still count as paying it

    @property
    def tolerance_percent(self) -> str:
        """Return the amount tolerance in percent as people write it: "3", "2.5", "10"."""
        return format((self.amount_tolerance * 100).normalize(), "f")


def _of(workspace: WorkspaceRecord) -> MatchingSettings:
    return MatchingSettings(workspace.auto_match, workspace.sync_times, workspace.timezone,
                            workspace.consent_reminder_days, workspace.feed_history_days,
                            workspace.amount_tolerance)  # fmt: skip


def matching_settings(engine: Engine, workspace_id: int) -> MatchingSettings:
    """Return the workspace's settings; raises ReconciliationError when there is no such workspace."""
    with Session(engine) as session:
        workspace = session.get(WorkspaceRecord, workspace_id)
        if workspace is None:
            raise ReconciliationError(f"workspace {workspace_id} does not exist")
        return _of(workspace)


def parse_history_days(text: str) -> int:
    """Return the history days ``text`` names; raises ValueError unless a whole number from 1 to 730."""
    value = text.strip()
    if not value.isdigit() or not MIN_HISTORY_DAYS <= int(value) <= MAX_HISTORY_DAYS:
        raise ValueError(f"history days {text!r}: a whole number from {MIN_HISTORY_DAYS} to {MAX_HISTORY_DAYS}")
    return int(value)


def parse_tolerance_percent(text: str) -> Decimal:
    """Return the tolerance ``text`` gives in percent ("3", "2,5") as a share (0.03, 0.025).

    Raises ValueError unless it is a number from 0 to 10.
    """
    try:
        percent = Decimal(text.strip().replace(",", ".").rstrip("%").strip())
        if not percent.is_finite():
            raise ArithmeticError
        share = percent / 100
    except ArithmeticError:
        raise ValueError(f"amount tolerance {text!r}: a percentage from 0 to 10, such as 3 or 2.5") from None
    if not Decimal(0) <= share <= MAX_TOLERANCE:
        raise ValueError(f"amount tolerance {text!r}: a percentage from 0 to 10, such as 3 or 2.5")
    return share


def update_matching_settings(
    engine: Engine,
    workspace_id: int,
    *,
    actor: str,
    auto_match: bool | None = None,
    schedule: str | None = None,
    reminders: str | None = None,
    history_days: int | None = None,
    amount_tolerance: Decimal | None = None,
) -> MatchingSettings:
    """Check every given setting, then store them together and audit what changed; return the settings now.

    Raises ValueError naming the bad part before anything is stored.
    """
    if schedule is not None:
        sync_times(schedule)
    if reminders is not None:
        reminder_days(reminders)
    if history_days is not None and not MIN_HISTORY_DAYS <= history_days <= MAX_HISTORY_DAYS:
        raise ValueError(f"history days: a whole number from {MIN_HISTORY_DAYS} to {MAX_HISTORY_DAYS}")
    with session_scope(engine) as session:
        workspace = lock_workspace(session, workspace_id)
        changed: dict[str, object] = {}
        if auto_match is not None and auto_match != workspace.auto_match:
            workspace.auto_match = changed["auto_match"] = auto_match
        if schedule is not None and schedule.strip() != workspace.sync_times:
            workspace.sync_times = changed["sync_times"] = schedule.strip()
        if reminders is not None and reminders.strip() != workspace.consent_reminder_days:
            workspace.consent_reminder_days = changed["reminder_days"] = reminders.strip()
        if history_days is not None and history_days != workspace.feed_history_days:
            workspace.feed_history_days = changed["history_days"] = history_days
        if amount_tolerance is not None and amount_tolerance != workspace.amount_tolerance:
            if not Decimal(0) <= amount_tolerance <= MAX_TOLERANCE:
                raise ValueError("amount tolerance: a share from 0 to 0.10")
            workspace.amount_tolerance = amount_tolerance
            changed["amount_tolerance"] = str(amount_tolerance)
        if changed:
            audit(session, workspace_id, actor, "workspace.matching_settings", "workspace", workspace_id, **changed)
        session.flush()
        return _of(workspace)
