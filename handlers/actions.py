"""What a button press means, whatever platform it came from.

A press names only an opaque action id. It is resolved here against the database: the action
must belong to this workspace, the presser must be a linked member whose role allows it, and its
decision must not be done yet. Otherwise it answers and changes nothing, so a forged, replayed or
second press (on any copy of the message) is harmless.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from reconbot.core.errors import ProviderError, ReconciliationError, SetupError
from reconbot.core.persistence.bank_tables import BankConnectionRecord
from reconbot.core.persistence.chat_tables import ChatActionRecord, ChatMessageRecord
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.invoicing_tables import OperationStatus
from reconbot.core.persistence.tables import WorkspaceRecord
from reconbot.core.roles import SETUP_ROLES, Role, may_invoice, may_pair, sees_bank_data
from reconbot.core.services.banks.connections import renew_connection
from reconbot.core.services.chat.queue import change_bodies
from reconbot.core.services.events import audit
from reconbot.core.services.handoff.marking import mark_invoices, mark_item_again
from reconbot.core.services.invoicing.lookup import invoice_numbered
from reconbot.core.services.invoicing.proformas import issue_final_invoice
from reconbot.core.services.invoicing.sales import invoice_sale
from reconbot.core.services.invoicing.write_back import OperationView, retry_operation
from reconbot.core.services.people.members import Member, member_for_in
from reconbot.core.services.reconciliation.pairing import ignore, pair, unpair_transaction
from reconbot.handlers.context import Chat, ChatUser
from reconbot.handlers.listing import unmatched_list
from reconbot.handlers.messages import Button, Message, Reply
from reconbot.handlers.notifications import unmatched_message
from reconbot.handlers.routing import new_action_in
from reconbot.handlers.texts import text

PERMISSIONS: dict[str, Callable[[Role], bool]] = {
    "pair": may_pair,
    "find": may_pair,
    "ignore": may_pair,
    "undo": may_pair,
    "show_all": sees_bank_data,
    "final": may_invoice,
    "sale": may_invoice,
    "retry": lambda role: may_pair(role) or may_invoice(role),
    "send_again": may_invoice,  # handing invoices to the accountant is invoicing work
    "renew": lambda role: role in SETUP_ROLES,
}


@dataclass(frozen=True, slots=True)
class Pressed:
    """A resolved, permitted press: the action and who pressed it."""

    id: str
    kind: str
    subject: dict[str, Any]
    decision: str
    event_id: str
    member: Member
    language: str


# What an action did: the note to show, and the buttons the edited message offers next.
NextButtons = Callable[[Session, Pressed], tuple[Button, ...] | Message | None]


async def press(chat: Chat, user: ChatUser, action_id: str) -> Reply:
    """Do the action behind the opaque ``action_id`` for ``user``, once; return what to answer."""
    pressed = _resolve(chat, user, action_id)
    if isinstance(pressed, Reply):
        return pressed
    language = pressed.language
    if pressed.kind == "find":
        return Reply(toast=text(language, "ask_number"), ask_number=pressed.id)
    if pressed.kind == "show_all":
        return Reply(message=unmatched_list(chat, language, limit=30), private=True)
    try:
        if pressed.kind == "renew":
            return await _renew(chat, user, pressed)
        outcome, after = await _perform(chat, user, pressed)
    except (ReconciliationError, ProviderError, SetupError) as exc:
        already = _already_done(chat, pressed.decision, language)
        return already or Reply(toast=text(language, "action.failed", error=str(exc))[:200])
    _finish(chat, user, pressed, outcome, after)
    return Reply(toast=outcome[:200])


async def answer_number(chat: Chat, user: ChatUser, action_id: str, number: str) -> Reply:
    """Pair the transaction of a "Find invoice…" action with the invoice ``number`` the user typed; return the
    answer (the pairing, or why not)."""
    pressed = _resolve(chat, user, action_id)
    if isinstance(pressed, Reply):
        return Reply(message=Message(title=pressed.toast), toast=pressed.toast)
    language = pressed.language
    if pressed.kind != "find":
        return Reply.say(text(language, "action.unknown"))
    with Session(chat.engine) as session:
        record = invoice_numbered(session, chat.workspace_id, number, cancelled=False)
        invoice = record.id if record else None
    if invoice is None:
        return Reply.say(text(language, "paid.unknown", number=number.strip()[:60]))
    try:
        booked = pair(chat.engine, chat.workspace_id, transaction_id=int(pressed.subject["transaction_id"]),
                      invoice_ids=[invoice], actor=user.actor)  # fmt: skip
    except ReconciliationError as exc:
        return _already_done(chat, pressed.decision, language) or Reply.say(text(language, "action.failed", error=exc))
    outcome = text(language, "done.paired", numbers=", ".join(b.invoice_number for b in booked),
                   who=pressed.member.name)  # fmt: skip
    _finish(chat, user, pressed, outcome, _undo_button)
    return Reply.say(outcome)


def remember_prompt(chat: Chat, action_id: str, ref: str) -> None:
    """Remember that the prompt message ``ref`` (Telegram ``"<chat id>:<message id>"``) asks for ``action_id``."""
    with session_scope(chat.engine) as session:
        session.execute(
            update(ChatActionRecord)
            .where(col(ChatActionRecord.id) == action_id, col(ChatActionRecord.workspace_id) == chat.workspace_id)
            .values(prompt_ref=ref)
        )


def prompt_action(chat: Chat, ref: str) -> str | None:
    """Return the action id the prompt message ``ref`` asked a number for, or None."""
    with Session(chat.engine) as session:
        query = select(ChatActionRecord.id).where(
            col(ChatActionRecord.workspace_id) == chat.workspace_id, col(ChatActionRecord.prompt_ref) == ref
        )
        return session.exec(query).first()


def language_of(session: Session, workspace_id: int) -> str:
    """Return the workspace's language code ("en" when the workspace is unknown)."""
    workspace = session.get(WorkspaceRecord, workspace_id)
    return workspace.language.value if workspace else "en"


def _resolve(chat: Chat, user: ChatUser, action_id: str) -> Pressed | Reply:
    with Session(chat.engine) as session:
        language = language_of(session, chat.workspace_id)
        action = session.get(ChatActionRecord, action_id[:32])
        if action is None or action.workspace_id != chat.workspace_id or action.kind not in PERMISSIONS:
            return Reply(toast=text(language, "action.unknown"))
        member = member_for_in(session, chat.workspace_id, user.platform, user.user_id)
        if member is None:
            return Reply(toast=text(language, "not_linked"))
        pressed = Pressed(action_id, action.kind, dict(action.subject), action.decision, action.event_id, member,
                          language)  # fmt: skip
    if not PERMISSIONS[pressed.kind](member.role):
        with session_scope(chat.engine) as session:
            audit(session, chat.workspace_id, user.actor, "chat.refused", "chat_action", action_id,
                  kind=pressed.kind, member_id=member.id, role=member.role.value)  # fmt: skip
        return Reply(toast=text(language, "refused", role=member.role.value))
    return _already_done(chat, pressed.decision, language) or pressed


def _already_done(chat: Chat, decision: str, language: str) -> Reply | None:
    with Session(chat.engine) as session:
        query = select(ChatActionRecord).where(
            col(ChatActionRecord.workspace_id) == chat.workspace_id,
            col(ChatActionRecord.decision) == decision,
            col(ChatActionRecord.done_at).is_not(None),
        )
        done = session.exec(query.limit(1)).first()
    if done is None:
        return None
    return Reply(toast=text(language, "already_done", who=done.done_by or "?", outcome=done.outcome)[:200])


async def _perform(chat: Chat, user: ChatUser, pressed: Pressed) -> tuple[str, NextButtons]:
    subject, who, language = pressed.subject, pressed.member.name, pressed.language
    workspace_id, actor = chat.workspace_id, user.actor
    if pressed.kind == "pair":
        expected = Decimal(subject["expected_allocated"]) if "expected_allocated" in subject else None
        booked = pair(chat.engine, workspace_id, transaction_id=int(subject["transaction_id"]),
                      invoice_ids=[int(i) for i in subject["invoice_ids"]], actor=actor,
                      expected_allocated=expected)  # fmt: skip
        numbers = ", ".join(b.invoice_number for b in booked)
        return text(language, "done.paired", numbers=numbers, who=who), _undo_button
    if pressed.kind == "ignore":
        ignore(chat.engine, workspace_id, transaction_id=int(subject["transaction_id"]), actor=actor)
        return text(language, "done.ignored", who=who), _nothing
    if pressed.kind == "undo":
        unpair_transaction(chat.engine, workspace_id, transaction_id=int(subject["transaction_id"]), actor=actor)
        return text(language, "done.undone", who=who), _ask_again
    if pressed.kind == "retry":
        view = retry_operation(chat.invoicing(), workspace_id, int(subject["operation_id"]), actor=actor)
        return text(language, "done.retry_queued", who=who, number=view.key), _nothing
    if pressed.kind == "send_again":
        if "item_id" in subject:  # a failed document (an invoice or a settlement): that very item again
            mark_item_again(chat.engine, workspace_id, int(subject["item_id"]), actor=actor, now=chat.clock())
        else:
            mark_invoices(chat.engine, workspace_id, [int(subject["invoice_id"])], actor=actor, now=chat.clock())
        return text(language, "done.send_again", who=who), _nothing
    if pressed.kind == "final":
        view = await issue_final_invoice(chat.invoicing(), workspace_id, int(subject["invoice_id"]), actor=actor)
        return text(language, "done.final", number=_issued(view), who=who), _nothing
    view = await invoice_sale(chat.invoicing(), workspace_id, int(subject["sale_id"]), actor=actor)
    return text(language, "done.sale", number=_issued(view), who=who), _nothing


def _issued(view: OperationView) -> str:
    """Return the issued document's number; raises ProviderError when issuing failed or is still under way."""
    if view.status is OperationStatus.DONE:
        return str(view.result.get("number", "?"))
    if view.status is OperationStatus.FAILED:
        raise ProviderError(view.last_error or "the invoicing system refused it", permanent=True)
    raise ProviderError("the invoicing system has not answered yet; it is retried, and you will be told")


async def _renew(chat: Chat, user: ChatUser, pressed: Pressed) -> Reply:
    if chat.feeds is None:
        raise ReconciliationError("bank feeds are not running in this process")
    link = await renew_connection(chat.feeds, int(pressed.subject["connection_id"]), actor=user.actor)
    with Session(chat.engine) as session:
        connection = session.get(BankConnectionRecord, link.connection_id)
        bank = connection.institution_name if connection else ""
    language = pressed.language
    message = Message(title=text(language, "renew.title", bank=bank), lines=(text(language, "renew.line"),),
                      buttons=(Button(text(language, "button.open_bank"), url=link.url),))  # fmt: skip
    return Reply(message=message, private=True, toast=text(language, "renew.title", bank=bank)[:200])


def _nothing(session: Session, pressed: Pressed) -> tuple[Button, ...]:
    return ()


def _undo_button(session: Session, pressed: Pressed) -> tuple[Button, ...]:
    new_action = new_action_in(session, pressed.member.workspace_id, _next_decision(pressed), pressed.event_id)
    undo = new_action("undo", {"transaction_id": pressed.subject["transaction_id"]})
    return (Button(text(pressed.language, "button.undo"), action=undo),)


def _ask_again(session: Session, pressed: Pressed) -> Message | None:
    new_action = new_action_in(session, pressed.member.workspace_id, _next_decision(pressed), pressed.event_id)
    return unmatched_message(session, int(pressed.subject["transaction_id"]), pressed.language, new_action)


def _next_decision(pressed: Pressed) -> str:
    # The event's copies keep their event id; the buttons they show next are a decision of their own.
    return f"{pressed.event_id}:{secrets.token_hex(4)}"


def _finish(chat: Chat, user: ChatUser, pressed: Pressed, outcome: str, after: NextButtons) -> None:
    """Mark the decision done, edit every copy of the message to show the outcome, audit; once."""
    with session_scope(chat.engine) as session:
        done = session.execute(
            update(ChatActionRecord)
            .where(col(ChatActionRecord.workspace_id) == chat.workspace_id,
                   col(ChatActionRecord.decision) == pressed.decision, col(ChatActionRecord.done_at).is_(None))
            .values(done_at=chat.clock(), done_by=pressed.member.name, outcome=outcome)
        )  # fmt: skip
        audit(session, chat.workspace_id, user.actor, f"chat.{pressed.kind}", "chat_action", pressed.id,
              member_id=pressed.member.id, subject=pressed.subject, outcome=outcome)  # fmt: skip
        if done.rowcount == 0:  # type: ignore[attr-defined]
            return  # someone finished the same decision a moment earlier; their outcome is shown
        base = _current_body(session, chat.workspace_id, pressed.event_id)
        if base is None:
            return
        following = after(session, pressed)
        if isinstance(following, Message):
            body = Message(following.title, following.fields, following.lines, outcome, following.buttons)
        else:
            body = Message(base.title, base.fields, base.lines, outcome, following or ())
        change_bodies(session, chat.workspace_id, pressed.event_id, body.to_json())
    chat.wake()


def _current_body(session: Session, workspace_id: int, event_id: str) -> Message | None:
    query = select(ChatMessageRecord.body).where(
        col(ChatMessageRecord.workspace_id) == workspace_id, col(ChatMessageRecord.event_id) == event_id
    )
    body = session.exec(query.limit(1)).first()
    return Message.from_json(dict(body)) if body else None
