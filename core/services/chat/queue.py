"""The chat messages' queue: claiming the next message of a channel, recording how sending went.

Each message is claimed with one conditional UPDATE before it is sent, and its platform id
stored right after, so two workers never send one message and a retry edits instead of
re-sending. A claim older than ``STALE_AFTER`` (its worker died mid-call) is taken over:
that message may then be sent twice, the one case at-least-once allows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, or_, update
from sqlmodel import Session, col, select

from reconbot.core.errors import SetupError
from reconbot.core.persistence.chat_tables import ChatChannelRecord, ChatMessageRecord, MessageStatus, Platform
from reconbot.core.persistence.database import session_scope
from reconbot.core.services.events import audit

STALE_AFTER = timedelta(minutes=2)
MAX_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class ChannelView:
    id: int
    workspace_id: int
    platform: Platform
    address: str


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed message: ``ref`` is set when it was sent before and now needs editing (to ``edits``)."""

    id: int
    channel: ChannelView
    event_id: str
    body: dict[str, Any]
    ref: str
    edits: int
    attempts: int


def _due(now: datetime) -> Any:
    pending = (col(ChatMessageRecord.status) == MessageStatus.PENDING) & or_(
        col(ChatMessageRecord.next_attempt_at).is_(None), col(ChatMessageRecord.next_attempt_at) <= now
    )
    edit = (
        (col(ChatMessageRecord.status) == MessageStatus.SENT)
        & col(ChatMessageRecord.needs_edit)
        & or_(col(ChatMessageRecord.next_attempt_at).is_(None), col(ChatMessageRecord.next_attempt_at) <= now)
    )
    stale = (col(ChatMessageRecord.status) == MessageStatus.SENDING) & (
        col(ChatMessageRecord.claimed_at) < now - STALE_AFTER
    )
    return or_(pending, edit, stale)


def due_channels(engine: Engine, now: datetime) -> list[ChannelView]:
    """Return the channels that have messages to send or edit now, leaving out channels with a problem."""
    with Session(engine) as session:
        ids = select(ChatMessageRecord.channel_id).where(_due(now)).distinct()
        query = select(ChatChannelRecord).where(
            col(ChatChannelRecord.id).in_(ids), col(ChatChannelRecord.problem) == ""
        )
        return [_channel(r) for r in session.exec(query.order_by(col(ChatChannelRecord.id)))]


def next_due(engine: Engine) -> datetime | None:
    """Return when the earliest postponed message becomes due (None when none waits)."""
    with Session(engine) as session:
        query = select(ChatMessageRecord.next_attempt_at).where(
            col(ChatMessageRecord.next_attempt_at).is_not(None),
            or_(col(ChatMessageRecord.status) == MessageStatus.PENDING, col(ChatMessageRecord.needs_edit)),
        )
        return session.exec(query.order_by(col(ChatMessageRecord.next_attempt_at)).limit(1)).first()


def claim_next(engine: Engine, channel: ChannelView, worker: str, now: datetime) -> Claimed | None:
    """Claim the channel's oldest due message for ``worker``; None when there is none (or another worker won)."""
    for _ in range(3):
        with session_scope(engine) as session:
            query = select(ChatMessageRecord).where(col(ChatMessageRecord.channel_id) == channel.id, _due(now))
            record = session.exec(query.order_by(col(ChatMessageRecord.id)).limit(1)).first()
            if record is None:
                return None
            claimed = session.execute(
                update(ChatMessageRecord)
                .where(col(ChatMessageRecord.id) == record.id, _due(now))
                .values(
                    status=MessageStatus.SENDING,
                    claimed_by=worker,
                    claimed_at=now,
                    attempts=col(ChatMessageRecord.attempts) + 1,
                )
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                session.refresh(record)
                assert record.id is not None
                return Claimed(record.id, channel, record.event_id, record.body, record.ref, record.edits,
                               record.attempts)  # fmt: skip
    return None


def record_sent(engine: Engine, claimed: Claimed, ref: str, now: datetime) -> None:
    """Store the platform's id of the message just sent or edited; an edit clears ``needs_edit`` unless the
    body changed again meanwhile."""
    with session_scope(engine) as session:
        record = session.get(ChatMessageRecord, claimed.id)
        assert record is not None
        record.status, record.ref, record.claimed_by, record.last_error = MessageStatus.SENT, ref, None, ""
        record.sent_at = record.sent_at or now
        record.next_attempt_at, record.attempts = None, 0
        if record.edits == claimed.edits:
            record.needs_edit = False


def postpone(engine: Engine, claimed: Claimed, until: datetime, error: str) -> None:
    """Put the message back, due at ``until`` (rate limited or a passing failure)."""
    with session_scope(engine) as session:
        record = session.get(ChatMessageRecord, claimed.id)
        assert record is not None
        record.status = MessageStatus.SENT if claimed.ref else MessageStatus.PENDING
        record.next_attempt_at, record.last_error, record.claimed_by = until, error[:500], None


def record_failure(engine: Engine, claimed: Claimed, error: str, now: datetime, *, permanent: bool) -> None:
    """Give up on the message; a permanent error also marks the channel as having a problem (shown in status),
    which stops sending there until someone adds the channel again."""
    with session_scope(engine) as session:
        record = session.get(ChatMessageRecord, claimed.id)
        assert record is not None
        if claimed.ref:
            # The message was delivered; only its update failed. It stays sent.
            record.status, record.needs_edit = MessageStatus.SENT, False
        else:
            record.status = MessageStatus.FAILED
        record.last_error, record.claimed_by = error[:500], None
        # A failed edit (message deleted) says nothing about the channel; the next send will tell.
        if permanent and not claimed.ref:
            channel = session.get(ChatChannelRecord, claimed.channel.id)
            assert channel is not None
            if not channel.problem:
                channel.problem, channel.problem_at = error[:500], now
                audit(session, channel.workspace_id, "reconbot", "chat_channel.problem", "chat_channel", channel.id,
                      error=error[:500])  # fmt: skip


def change_bodies(session: Session, workspace_id: int, event_id: str, body: dict[str, Any]) -> int:
    """Give every copy of the event's message a new body (in the caller's transaction); return how many.

    Copies already sent are marked for editing, due now; copies not sent yet simply go out new.
    """
    query = select(ChatMessageRecord).where(
        col(ChatMessageRecord.workspace_id) == workspace_id, col(ChatMessageRecord.event_id) == event_id
    )
    count = 0
    for record in session.exec(query):
        record.body, record.edits = body, record.edits + 1
        if record.status in (MessageStatus.SENT, MessageStatus.SENDING) and record.ref:
            record.needs_edit, record.next_attempt_at = True, None
        count += 1
    return count


def message_counts(engine: Engine, workspace_id: int) -> dict[str, int]:
    """Return how many of the workspace's chat messages are in each status (``{"sent": 12, …}``)."""
    with Session(engine) as session:
        query = (
            select(ChatMessageRecord.status, func.count())
            .where(col(ChatMessageRecord.workspace_id) == workspace_id)
            .group_by(col(ChatMessageRecord.status))
        )
        return {str(status): count for status, count in session.exec(query)}


def _channel(record: ChatChannelRecord) -> ChannelView:
    assert record.id is not None
    return ChannelView(record.id, record.workspace_id, record.platform, record.address)


def queue_test_message(
    engine: Engine, workspace_id: int, channel_id: int, body: dict[str, Any], *, actor: str, now: datetime
) -> int:
    """Queue ``body`` for the channel as a message of its own (event id ``test:<uuid>``), which the delivery
    worker sends like any notification; return the message's id. Raises SetupError for an unknown or removed
    channel, or one with a problem (nothing is sent there until it is linked again)."""
    with session_scope(engine) as session:
        channel = session.get(ChatChannelRecord, channel_id)
        if channel is None or channel.workspace_id != workspace_id or channel.removed_at is not None:
            raise SetupError(f"there is no channel {channel_id}")
        if channel.problem:
            raise SetupError(f"{channel.address} has a problem ({channel.problem}); fix it and link the channel again")
        record = ChatMessageRecord(workspace_id=workspace_id, channel_id=channel_id, event_id=f"test:{uuid.uuid4()}",
                                   kind="test", body=body, created_at=now)  # fmt: skip
        session.add(record)
        session.flush()
        audit(session, workspace_id, actor, "chat_channel.test_message", "chat_channel", channel_id)
        assert record.id is not None
        return record.id
