"""From the outbox to the chat-message queue: which channel hears which event, and digests of many.

An event is taken once (a conditional UPDATE of its ``delivered_at``), composed once, and queued once
per channel that may hear it, in one transaction; the ``(channel, event)`` key keeps a second routing
from queueing it twice.

What a message says is not decided here: the caller passes a composer (the handlers word it) that gets
neutral facts, gathered here in the same transaction, and returns the message body as JSON. Its
``new_action`` stores each button's action in that transaction too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from reconbot.core.matching.model import Flag
from reconbot.core.persistence.bulk import insert_unless_present
from reconbot.core.persistence.chat_tables import ChatChannelRecord, ChatMessageRecord, MessageStatus
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import OutboxEventRecord
from reconbot.core.services.chat.actions import NewAction, new_action_in
from reconbot.core.services.chat.questions import Question, question_in
from reconbot.core.services.chat.setup import Channel, channels_in
from reconbot.core.services.events import EventKind
from reconbot.core.services.handoff.marking import waiting_for_a_hand
from reconbot.core.services.workspaces import language_of_in

# Events that tell a matched payment, and those that ask "which invoice is it?".
MATCHED_KINDS = frozenset({EventKind.PAYMENT_MATCHED, EventKind.PARTIAL_PAYMENT, EventKind.OVERPAYMENT})
QUESTION_KINDS = frozenset({EventKind.UNMATCHED_TRANSACTION, EventKind.POSSIBLE_DOUBLE_PAYMENT})
# Events that show bank transactions: only for channels where bank data may be read.
BANK_KINDS = MATCHED_KINDS | QUESTION_KINDS
# Many of these at once (a first sync) are told as one digest.
DIGESTIBLE = BANK_KINDS
# More than this many bank messages waiting for one channel are told as one digest.
DIGEST_AT = 5


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What a composer needs to tell one event, besides its payload.

    ``question``: for an unmatched or possible double payment, the transaction as it stands now with its
    candidates. ``hand_over``: for a matched payment, the paid invoices a manual-mode accountant has not been
    given yet (what chat may offer to send), in the payload's order.
    """

    kind: str
    payload: dict[str, Any]
    language: str
    question: Question | None = None
    hand_over: tuple[int, ...] = field(default=())


# ``compose(facts, new_action)`` → the message body (``Message.to_json()``), or None for an event chat does not show.
EventComposer = Callable[[EventFacts, NewAction], dict[str, Any] | None]
# ``compose_digest([(kind, payload), …], language, new_action)`` → the body of one message telling them all.
DigestComposer = Callable[[Sequence[tuple[str, dict[str, Any]]], str, NewAction], dict[str, Any]]


def hears(channel: Channel, kind: str) -> bool:
    """Return True when the channel should get events of ``kind``: its filter allows them, and bank data only
    where the owner allowed it."""
    if channel.kinds and kind not in channel.kinds:
        return False
    return kind not in BANK_KINDS or channel.bank_data


def _superseded(kind: str, payload: dict[str, Any]) -> bool:
    """Return True for an event another event of the same moment tells better, or a person's own deed.

    A matched payment that is partial or an overpayment is told by that event; an unmatched one that
    looks like a double payment by the double-payment event; a pairing a person made is shown by
    editing the message they pressed (or was made outside chat, where they saw it happen).
    """
    flags = set(payload.get("flags", []))
    if kind == EventKind.PAYMENT_MATCHED:
        return bool(flags & {Flag.PARTIAL_PAYMENT.value, Flag.OVERPAYMENT.value}) or "by" in payload
    if kind == EventKind.UNMATCHED_TRANSACTION:
        return Flag.ALREADY_PAID.value in flags
    return False


def route_events(engine: Engine, now: datetime, compose: EventComposer, *, limit: int = 500) -> int:
    """Queue the messages of undelivered events, as ``compose`` words them, for every channel that hears them;
    return how many were queued.

    Events of a workspace without any channel wait (the first channel gets them, as a digest if many).
    """
    queued = 0
    with session_scope(engine) as session:
        query = select(OutboxEventRecord).where(col(OutboxEventRecord.delivered_at).is_(None))
        events = session.exec(query.order_by(col(OutboxEventRecord.created_at)).limit(limit)).all()
        listeners: dict[int, list[Channel]] = {}
        languages: dict[int, str] = {}
        for event in events:
            if event.workspace_id not in listeners:
                listeners[event.workspace_id] = channels_in(session, event.workspace_id)
                languages[event.workspace_id] = language_of_in(session, event.workspace_id)
            if not listeners[event.workspace_id] or not _take(session, event.id, now):
                continue
            hearing = [c for c in listeners[event.workspace_id] if hears(c, event.kind)]
            if not hearing or _superseded(event.kind, event.payload):
                continue
            facts = _facts_in(session, event.kind, dict(event.payload), languages[event.workspace_id])
            if facts is None:
                continue
            body = compose(facts, new_action_in(session, event.workspace_id, event.id, event.id))
            if body is None:
                continue
            for channel in hearing:
                queued += _queue(session, channel, event.id, event.kind, body, now)
    return queued


def _facts_in(session: Session, kind: str, payload: dict[str, Any], language: str) -> EventFacts | None:
    """Return the facts of the event as things stand; None for a question nobody needs to answer any more."""
    if kind in QUESTION_KINDS:
        question = question_in(session, int(payload["transaction"]["id"]))
        return EventFacts(kind, payload, language, question=question) if question is not None else None
    if kind in MATCHED_KINDS:
        paid = list(dict.fromkeys(int(a["invoice_id"]) for a in payload.get("allocations", [])))
        return EventFacts(kind, payload, language, hand_over=tuple(waiting_for_a_hand(session, paid)))
    return EventFacts(kind, payload, language)


def _take(session: Session, event_id: str, now: datetime) -> bool:
    taken = session.execute(
        update(OutboxEventRecord)
        .where(col(OutboxEventRecord.id) == event_id, col(OutboxEventRecord.delivered_at).is_(None))
        .values(delivered_at=now)
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def _queue(session: Session, channel: Channel, event_id: str, kind: str, body: dict[str, Any],
           now: datetime) -> int:  # fmt: skip
    row = {"workspace_id": channel.workspace_id, "channel_id": channel.id, "event_id": event_id, "kind": kind,
           "body": body, "status": MessageStatus.PENDING, "created_at": now}  # fmt: skip
    return int(insert_unless_present(session, ChatMessageRecord, row, ["channel_id", "event_id"]))


def fold_digest(
    engine: Engine, channel_id: int, now: datetime, compose_digest: DigestComposer, *, threshold: int = DIGEST_AT
) -> int | None:
    """When more than ``threshold`` bank messages wait unsent for the channel, replace them by one digest (as
    ``compose_digest`` words it); return the digest's message id (None when nothing was folded)."""
    with session_scope(engine) as session:
        query = select(ChatMessageRecord, OutboxEventRecord).join(
            OutboxEventRecord, col(OutboxEventRecord.id) == col(ChatMessageRecord.event_id)
        ).where(
            col(ChatMessageRecord.channel_id) == channel_id,
            col(ChatMessageRecord.status) == MessageStatus.PENDING,
            col(ChatMessageRecord.ref) == "",
            col(ChatMessageRecord.kind).in_(list(DIGESTIBLE)),
        )  # fmt: skip
        waiting = session.exec(query.order_by(col(ChatMessageRecord.id))).all()
        if len(waiting) <= threshold:
            return None
        channel = session.get(ChatChannelRecord, channel_id)
        assert channel is not None
        event_id = f"digest:{uuid.uuid4()}"
        new_action = new_action_in(session, channel.workspace_id, event_id, event_id)
        told = [(event.kind, dict(event.payload)) for _, event in waiting]
        body = compose_digest(told, language_of_in(session, channel.workspace_id), new_action)
        digest = ChatMessageRecord(workspace_id=channel.workspace_id, channel_id=channel_id, event_id=event_id,
                                   kind="digest", body=body, created_at=now)  # fmt: skip
        session.add(digest)
        session.flush()
        for message, _ in waiting:
            message.status, message.digest_id = MessageStatus.DIGESTED, digest.id
        return digest.id
