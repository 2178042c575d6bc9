"""Setting up the accountant handoff: the receivers (one per kind and workspace), their mode, and the backfill.

Settings are stored sealed (``reconbot.core.encryption``); what is shown back names where documents
go and masks the secrets. The backfill marks every issued invoice from a chosen day on, and
can be used once per receiver (as in InCash's Cashbook integration).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from reconbot.core.encryption import mask, seal, unseal
from reconbot.core.errors import ProviderError, SetupError
from reconbot.core.handoff.receiver import ReceiverContext, receiver_class
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.handoff_tables import HandoffReceiverRecord, ReceiverKind
from reconbot.core.services.events import audit
from reconbot.core.services.handoff.marking import mark_issued_from

MIN_INTERVAL, MAX_INTERVAL = 5, 24 * 60


@dataclass(frozen=True, slots=True)
class ReceiverView:
    """A receiver as it stood when read; ``settings`` are fit to show (secrets masked)."""

    id: int
    workspace_id: int
    kind: ReceiverKind
    settings: dict[str, str]
    auto_mode: bool
    interval_minutes: int
    last_run_at: datetime | None
    backfill_from: date | None
    backfill_done_at: datetime | None
    backfill_by: str

    @classmethod
    def of(cls, record: HandoffReceiverRecord) -> ReceiverView:
        assert record.id is not None
        secret = receiver_class(record.kind.value).secret_fields
        shown = {k: (mask(v) if k in secret else v) for k, v in sorted(unseal(record.settings).items())}
        return cls(record.id, record.workspace_id, record.kind, shown, record.auto_mode, record.interval_minutes,
                   record.last_run_at, record.backfill_from, record.backfill_done_at, record.backfill_by)  # fmt: skip

    @property
    def backfill_used(self) -> bool:
        return self.backfill_done_at is not None


def setup_receiver(
    engine: Engine,
    workspace_id: int,
    kind: str,
    settings: Mapping[str, str],
    *,
    actor: str,
    now: datetime,
    auto_mode: bool | None = None,
    interval_minutes: int | None = None,
) -> ReceiverView:
    """Create or change the workspace's receiver of ``kind``; return it.

    ``settings`` are merged into the stored ones (a blank value keeps what is stored, so a
    password need not be typed again); ``auto_mode``/``interval_minutes`` of None keep theirs.
    Turning auto mode on marks invoices issued from then on (older ones: the backfill).
    Raises SetupError, with nothing stored, when a setting is missing or malformed.
    """
    try:
        receiver_kind = ReceiverKind(kind)
    except ValueError:
        raise SetupError(f"there is no {kind!r} receiver; choose webhook, email or folder") from None
    if interval_minutes is not None and not MIN_INTERVAL <= interval_minutes <= MAX_INTERVAL:
        raise SetupError(f"the sending interval must be {MIN_INTERVAL} to {MAX_INTERVAL} minutes")
    with session_scope(engine) as session:
        record = _receiver(session, workspace_id, receiver_kind, lock=True)
        merged = dict(unseal(record.settings)) if record is not None else {}
        merged.update({k: str(v).strip() for k, v in settings.items() if str(v).strip()})
        try:
            receiver_class(kind).from_settings(merged, ReceiverContext())
        except ProviderError as exc:
            raise SetupError(str(exc)) from None
        if record is None:
            record = HandoffReceiverRecord(workspace_id=workspace_id, kind=receiver_kind, settings="")
            session.add(record)
        was_auto = record.auto_mode and record.removed_at is None
        record.settings, record.removed_at = seal(merged), None
        if auto_mode is not None:
            record.auto_mode = auto_mode
        if record.auto_mode and not was_auto:
            record.auto_since = now
        if interval_minutes is not None:
            record.interval_minutes = interval_minutes
        session.flush()
        details = {"kind": kind, "auto_mode": record.auto_mode, "interval_minutes": record.interval_minutes}
        audit(session, workspace_id, actor, "handoff.receiver_saved", "handoff_receiver", record.id, **details,
              settings=sorted(merged))  # fmt: skip
        return ReceiverView.of(record)


def remove_receiver(engine: Engine, workspace_id: int, kind: str, *, actor: str, now: datetime) -> None:
    """Stop handing documents to the workspace's receiver of ``kind``; raises SetupError when there is none."""
    with session_scope(engine) as session:
        record = _receiver(session, workspace_id, _kind(kind), lock=True)
        if record is None or record.removed_at is not None:
            raise SetupError(f"there is no {kind} receiver to remove")
        record.removed_at = now
        audit(session, workspace_id, actor, "handoff.receiver_removed", "handoff_receiver", record.id, kind=kind)


def list_receivers(engine: Engine, workspace_id: int) -> list[ReceiverView]:
    """Return the workspace's receivers in use, oldest first."""
    with Session(engine) as session:
        in_use = col(HandoffReceiverRecord.removed_at).is_(None)
        records = session.exec(
            select(HandoffReceiverRecord)
            .where(col(HandoffReceiverRecord.workspace_id) == workspace_id, in_use)
            .order_by(col(HandoffReceiverRecord.id))
        ).all()
        return [ReceiverView.of(r) for r in records]


def backfill(
    engine: Engine, workspace_id: int, start: date, *, actor: str, now: datetime, kind: str | None = None
) -> int:
    """Mark every issued invoice and advance invoice dated ``start`` or later for sending; return how many items.

    Applies to the receiver of ``kind``, or to every receiver in use. Each receiver allows it
    once: raises SetupError (nothing marked) when one has used it already, or none is set up.
    """
    if start > now.date():
        raise SetupError(f"the backfill start {start.isoformat()} is in the future")
    with session_scope(engine) as session:
        query = select(HandoffReceiverRecord).where(
            col(HandoffReceiverRecord.workspace_id) == workspace_id, col(HandoffReceiverRecord.removed_at).is_(None)
        )
        if kind is not None:
            query = query.where(col(HandoffReceiverRecord.kind) == _kind(kind))
        receivers = list(session.exec(query.order_by(col(HandoffReceiverRecord.id))).all())
        if not receivers:
            raise SetupError("no receiver is set up; run `reconbot handoff setup` first" if kind is None
                             else f"there is no {kind} receiver")  # fmt: skip
        marked = 0
        for receiver in receivers:
            # A conditional UPDATE: two simultaneous requests cannot both use the one backfill.
            unused = col(HandoffReceiverRecord.backfill_done_at).is_(None)
            taken = session.execute(
                update(HandoffReceiverRecord)
                .where(col(HandoffReceiverRecord.id) == receiver.id, unused)
                .values(backfill_from=start, backfill_done_at=now, backfill_by=actor)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                session.refresh(receiver)
                used = receiver.backfill_done_at.date().isoformat() if receiver.backfill_done_at else "?"
                since = receiver.backfill_from.isoformat() if receiver.backfill_from else "?"
                raise SetupError(f"the {receiver.kind.value} receiver's backfill was already used on {used} "
                                 f"(from {since}, by {receiver.backfill_by}); it can be used only once")  # fmt: skip
            marked += mark_issued_from(session, receiver, start, now)
            audit(session, workspace_id, actor, "handoff.backfill", "handoff_receiver", receiver.id,
                  kind=receiver.kind.value, start=start.isoformat())  # fmt: skip
        return marked


def _kind(kind: str) -> ReceiverKind:
    try:
        return ReceiverKind(kind)
    except ValueError:
        raise SetupError(f"there is no {kind!r} receiver; choose webhook, email or folder") from None


def _receiver(session: Session, workspace_id: int, kind: ReceiverKind, *, lock: bool) -> HandoffReceiverRecord | None:
    query = select(HandoffReceiverRecord).where(
        col(HandoffReceiverRecord.workspace_id) == workspace_id, col(HandoffReceiverRecord.kind) == kind
    )
    return session.exec(query.with_for_update() if lock else query).first()
