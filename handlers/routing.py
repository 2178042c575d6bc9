"""From the outbox to the chat-message queue: which channel hears which event, and digests of many.

An event is taken once (a conditional UPDATE of its ``delivered_at``), composed once, and queued once
per channel that may hear it, in one transaction; the ``(channel, event)`` key keeps a second routing
from queueing it twice.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from reconbot.core.persistence.bulk import insert_unless_present
from reconbot.core.persistence.chat_tables import ChatActionRecord, ChatChannelRecord, ChatMessageRecord, MessageStatus
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import OutboxEventRecord, WorkspaceRecord
from reconbot.core.services.chat.setup import Channel, channels_in
from reconbot.core.services.events import EventKind
from reconbot.handlers.messages import Button, Message
from reconbot.handlers.notifications import BANK_KINDS, DIGESTIBLE, NewAction, compose, superseded
from reconbot.handlers.texts import money, text

# More than this many bank messages waiting for one channel are told as one digest.
DIGEST_AT = 5
DIGEST_TOP = 5


def new_action_in(session: Session, workspace_id: int, decision: str, event_id: str) -> NewAction:
    """Return a ``new_action`` that stores actions of one decision in ``session``."""

    def new_action(kind: str, subject: dict[str, Any]) -> str:
        action_id = secrets.token_urlsafe(12)  # 16 characters: "rb:" + id stays far inside Telegram's 64 bytes
        session.add(ChatActionRecord(id=action_id, workspace_id=workspace_id, decision=decision, event_id=event_id,
                                     kind=kind, subject=subject))  # fmt: skip
        return action_id

    return new_action


def hears(channel: Channel, kind: str) -> bool:
    """Return True when the channel should get events of ``kind``: its filter allows them, and bank data only
    where the owner allowed it."""
    if channel.kinds and kind not in channel.kinds:
        return False
    return kind not in BANK_KINDS or channel.bank_data


def route_events(engine: Engine, now: datetime, *, limit: int = 500) -> int:
    """Queue the messages of undelivered events for every channel that hears them; return how many were queued.

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
                workspace = session.get(WorkspaceRecord, event.workspace_id)
                languages[event.workspace_id] = workspace.language.value if workspace else "en"
            if not listeners[event.workspace_id] or not _take(session, event.id, now):
                continue
            hearing = [c for c in listeners[event.workspace_id] if hears(c, event.kind)]
            if not hearing or superseded(event.kind, event.payload):
                continue
            new_action = new_action_in(session, event.workspace_id, event.id, event.id)
            message = compose(session, event.kind, event.payload, languages[event.workspace_id], new_action)
            if message is None:
                continue
            for channel in hearing:
                queued += _queue(session, channel, event.id, event.kind, message.to_json(), now)
    return queued


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


def fold_digest(engine: Engine, channel_id: int, now: datetime, *, threshold: int = DIGEST_AT) -> int | None:
    """When more than ``threshold`` bank messages wait unsent for the channel, replace them by one digest;
    return the digest's message id (None when nothing was folded)."""
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
        workspace = session.get(WorkspaceRecord, channel.workspace_id) if channel else None
        assert channel is not None and workspace is not None
        event_id = f"digest:{uuid.uuid4()}"
        new_action = new_action_in(session, channel.workspace_id, event_id, event_id)
        body = digest_message([e.kind for _, e in waiting], [e.payload for _, e in waiting],
                              workspace.language.value, new_action).to_json()  # fmt: skip
        digest = ChatMessageRecord(workspace_id=channel.workspace_id, channel_id=channel_id, event_id=event_id,
                                   kind="digest", body=body, created_at=now)  # fmt: skip
        session.add(digest)
        session.flush()
        for message, _ in waiting:
            message.status, message.digest_id = MessageStatus.DIGESTED, digest.id
        return digest.id


def digest_message(kinds: list[str], payloads: list[dict[str, Any]], language: str, new_action: NewAction) -> Message:
    """Return one message telling many bank events: counts, paired totals per currency, the largest unmatched."""
    counts: Counter[str] = Counter()
    paired: dict[str, Decimal] = defaultdict(Decimal)
    unmatched: list[dict[str, Any]] = []
    for kind, payload in zip(kinds, payloads, strict=True):
        tx = payload["transaction"]
        if kind in (EventKind.UNMATCHED_TRANSACTION, EventKind.POSSIBLE_DOUBLE_PAYMENT):
            counts["unmatched"] += 1
            unmatched.append(tx)
        elif kind in (EventKind.PAYMENT_MATCHED, EventKind.PARTIAL_PAYMENT, EventKind.OVERPAYMENT):
            counts["matched"] += 1
            paired[tx["currency"]] += abs(Decimal(tx["amount"]))
        else:
            counts["other"] += 1
    lines: list[str] = []
    if counts["matched"]:
        total = ", ".join(money(amount, currency, language) for currency, amount in sorted(paired.items()))
        lines.append(text(language, "digest.matched", count=counts["matched"], amount=total))
    if counts["unmatched"]:
        lines.append(text(language, "digest.unmatched", count=counts["unmatched"]))
        lines.append(text(language, "digest.top"))
        largest = sorted(unmatched, key=_size, reverse=True)[:DIGEST_TOP]
        lines.extend(_line(tx, language) for tx in largest)
    if counts["other"]:
        lines.append(text(language, "digest.other", count=counts["other"]))
    buttons = (Button(text(language, "button.show_all"), action=new_action("show_all", {})),) if unmatched else ()
    return Message(title=text(language, "digest.title", count=len(kinds)), lines=tuple(lines), buttons=buttons)


def _size(tx: dict[str, Any]) -> Decimal:
    return abs(Decimal(tx["amount"]))


def _line(tx: dict[str, Any], language: str) -> str:
    amount = money(abs(Decimal(tx["amount"])), tx["currency"], language)
    parts = [amount, tx.get("counterparty_name") or "?", tx.get("reference") or ""]
    return " · ".join(p for p in parts if p)
