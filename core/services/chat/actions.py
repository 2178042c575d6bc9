"""The actions behind chat buttons: an opaque id per button, stored with what it acts on.

Buttons of one message share a ``decision``; once one of them is done, every copy of every one of them
answers "already done" (``reconbot.core.services.chat.presses``). A Telegram "reply with the invoice number"
prompt is remembered on its action, so the typed answer finds the action again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from reconbot.core.persistence.chat_tables import ChatActionRecord
from reconbot.core.persistence.database import session_scope

# ``new_action(kind, subject)`` → opaque id of a stored action of the message's decision.
NewAction = Callable[[str, dict[str, Any]], str]


def new_action_in(session: Session, workspace_id: int, decision: str, event_id: str) -> NewAction:
    """Return a ``new_action`` that stores actions of one decision in ``session`` (the caller's transaction)."""

    def new_action(kind: str, subject: dict[str, Any]) -> str:
        action_id = secrets.token_urlsafe(12)  # 16 characters: "rb:" + id stays far inside Telegram's 64 bytes
        session.add(ChatActionRecord(id=action_id, workspace_id=workspace_id, decision=decision, event_id=event_id,
                                     kind=kind, subject=subject))  # fmt: skip
        return action_id

    return new_action


def remember_prompt(engine: Engine, workspace_id: int, action_id: str, ref: str) -> None:
    """Remember that the prompt message ``ref`` (Telegram ``"<chat id>:<message id>"``) asks for ``action_id``;
    an action of another workspace is left alone."""
    with session_scope(engine) as session:
        session.execute(
            update(ChatActionRecord)
            .where(col(ChatActionRecord.id) == action_id, col(ChatActionRecord.workspace_id) == workspace_id)
            .values(prompt_ref=ref)
        )


def prompt_action(engine: Engine, workspace_id: int, ref: str) -> str | None:
    """Return the id of the action the prompt message ``ref`` asked an invoice number for, or None."""
    with Session(engine) as session:
        query = select(ChatActionRecord.id).where(
            col(ChatActionRecord.workspace_id) == workspace_id, col(ChatActionRecord.prompt_ref) == ref
        )
        return session.exec(query).first()
