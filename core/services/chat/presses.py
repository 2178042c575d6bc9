"""What a chat button press does, decided in one database transaction.

A press names only an opaque action id. ``press`` resolves it (the action is this workspace's and of a
known kind, the presser a linked member whose role allows it, its decision not done yet), claims the
decision, performs the action through the domain services' ``*_in`` variants, audits, and gives every
copy of the message its next body (copies already sent are marked ``needs_edit``, and the delivery
worker edits them) — all in one transaction. A crash at any point leaves either nothing, so pressing
again works, or the pairing together with its pending edits. A refused press is audited and committed
though nothing else happens; a forged, replayed or second press (on any copy) changes nothing.

Actions that call another system (a final invoice, a sale's invoice, a bank consent renewal) cannot share
a transaction with that call. Resolving and the permission are one transaction; the call goes through
its own idempotent service, which records the operation before calling; finishing (decision done, audit,
edits) is one more. A crash between them leaves the decision open, and pressing again finds the recorded
operation (the same document) and finishes.

The words are not chosen here: the caller passes a renderer that turns the neutral ``Deed`` into the
outcome sentence and the message's next body.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from reconbot.core.errors import ProviderError, ReconciliationError, SetupError
from reconbot.core.persistence.chat_tables import ChatActionRecord, ChatMessageRecord, Platform
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.invoicing_tables import OperationStatus
from reconbot.core.roles import SETUP_ROLES, Role, may_invoice, may_pair, sees_bank_data
from reconbot.core.services.banks.connections import renew_connection
from reconbot.core.services.banks.overview import connection_of
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.chat.actions import NewAction, new_action_in
from reconbot.core.services.chat.questions import Question, question_in
from reconbot.core.services.chat.queue import change_bodies
from reconbot.core.services.events import audit
from reconbot.core.services.handoff.marking import mark_invoices_in, mark_item_again_in
from reconbot.core.services.invoicing.lookup import invoice_numbered
from reconbot.core.services.invoicing.proformas import issue_final_invoice
from reconbot.core.services.invoicing.sales import invoice_sale
from reconbot.core.services.invoicing.sources import InvoiceSources
from reconbot.core.services.invoicing.write_back import OperationView, retry_operation_in
from reconbot.core.services.people.members import Member, member_for_in
from reconbot.core.services.reconciliation.pairing import ignore_in, pair_in, unpair_transaction_in
from reconbot.core.services.workspaces import language_of_in

# Who may press what: the security policy of every button kind (a kind not named here is refused as unknown).
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
# Kinds done entirely in the press's one transaction; "final" and "sale" call an invoicing system, "renew" a bank.
BOOKED = frozenset({"pair", "ignore", "undo", "retry", "send_again"})
# What a press may fail with: a domain refusal, said to the presser; anything else is a crash.
FAILURES = (ReconciliationError, ProviderError, SetupError)


@dataclass(frozen=True, slots=True)
class Presser:
    """The chat account that pressed: the Slack user id or the Telegram user id (as text)."""

    platform: Platform
    user_id: str

    @property
    def actor(self) -> str:
        """Return the actor as the audit trail and allocations record it: ``slack:U123``, ``telegram:42``."""
        return f"{self.platform.value}:{self.user_id}"


class PressStatus(StrEnum):
    DONE = "done"
    UNKNOWN = "unknown"  # forged, another workspace's, of a kind chat does not do, or not a "Find invoice…"
    NOT_LINKED = "not_linked"
    REFUSED = "refused"  # the member's role may not (audited)
    ALREADY_DONE = "already_done"
    FAILED = "failed"  # the domain refused (``error`` says why); nothing changed
    ASK_NUMBER = "ask_number"  # "Find invoice…": ask the presser for a number, then ``answer_number``
    SHOW_ALL = "show_all"  # show the presser every waiting transaction, privately
    NO_INVOICE = "no_invoice"  # the typed number names no live invoice
    RENEW = "renew"  # send the presser to the bank's consent page (``renewal``)


@dataclass(frozen=True, slots=True)
class Renewal:
    """Where to renew a bank's consent."""

    bank: str
    url: str


@dataclass(frozen=True, slots=True)
class PressResult:
    """How a press ended: ``role`` of a refused member; ``who`` did the decision and its ``outcome`` (this press's
    member and outcome for ``DONE``, an earlier one's for ``ALREADY_DONE``); ``error`` why it failed."""

    status: PressStatus
    language: str
    role: Role | None = None
    who: str = ""
    outcome: str = ""
    error: str = ""
    renewal: Renewal | None = None


@dataclass(frozen=True, slots=True)
class Deed:
    """What a press did, for the renderer to put in words.

    ``numbers``: the invoices a pairing booked. ``document``: the issued document's number (final, sale) or the
    retried operation's key. ``question``: after an undo, the transaction's question asked again (None when it
    waits for nobody any more).
    """

    kind: str  # pair, ignore, undo, retry, send_again, final, sale
    who: str
    language: str
    subject: Mapping[str, Any]
    numbers: tuple[str, ...] = field(default=())
    document: str = ""
    question: Question | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    """The outcome sentence, and the message's next body (``Message.to_json()``; None leaves the copies as they are)."""

    outcome: str
    body: dict[str, Any] | None


# ``render(deed, current body or None, new_action)`` → the outcome and the next body; ``new_action`` stores the
# next buttons' actions (a decision of their own) in the press's transaction.
PressRenderer = Callable[[Deed, dict[str, Any] | None, NewAction], Rendered]


@dataclass(frozen=True, slots=True)
class _Pressed:
    id: str
    kind: str
    subject: dict[str, Any]
    decision: str
    event_id: str
    member: Member
    language: str


async def press(
    engine: Engine, workspace_id: int, presser: Presser, action_id: str, render: PressRenderer, *, now: datetime,
    sources: InvoiceSources | None = None, feeds: BankFeeds | None = None,
) -> PressResult:  # fmt: skip
    """Do the action behind ``action_id`` for ``presser``, once; return how it ended.

    ``sources`` issues final and sale invoices (made from ``engine`` when None); ``feeds`` renews bank consents
    (without it a Renew press fails). Raises only what is not a domain refusal (a crash): nothing of the press's
    transaction is committed then, though an invoice already issued stays recorded with its operation.
    """
    pressed = _decide(engine, workspace_id, presser, action_id, render, now)
    if isinstance(pressed, PressResult):
        return pressed
    if pressed.kind == "find":
        return PressResult(PressStatus.ASK_NUMBER, pressed.language)
    if pressed.kind == "show_all":
        return PressResult(PressStatus.SHOW_ALL, pressed.language)
    try:
        if pressed.kind == "renew":
            return await _renew(engine, workspace_id, feeds, pressed, presser)
        document = await _issue(sources or InvoiceSources(engine), workspace_id, pressed, presser)
    except FAILURES as exc:
        return _failed(engine, workspace_id, action_id, exc)
    deed = Deed(pressed.kind, pressed.member.name, pressed.language, pressed.subject, document=document)
    with session_scope(engine) as session:
        taken = _claim_in(session, pressed, now)
        return taken if taken is not None else _finish_in(session, pressed, presser, deed, render)


def _decide(
    engine: Engine, workspace_id: int, presser: Presser, action_id: str, render: PressRenderer, now: datetime
) -> _Pressed | PressResult:
    """Run a press's first transaction: resolve it, and do a ``BOOKED`` kind to the end; return the result, or
    the resolved press when its kind needs more than the database."""
    try:
        with session_scope(engine) as session:
            pressed = _resolve_in(session, workspace_id, presser, action_id)
            if isinstance(pressed, PressResult) or pressed.kind not in BOOKED:
                return pressed  # a refusal's audit commits with it
            taken = _claim_in(session, pressed, now)
            if taken is not None:
                return taken
            return _finish_in(session, pressed, presser, _perform_in(session, pressed, presser, now), render)
    except FAILURES as exc:
        return _failed(engine, workspace_id, action_id, exc)


def answer_number(
    engine: Engine, workspace_id: int, presser: Presser, action_id: str, number: str, render: PressRenderer, *,
    now: datetime,
) -> PressResult:  # fmt: skip
    """Pair the transaction of a "Find invoice…" action with the live invoice ``number`` the presser typed, in one
    transaction as ``press`` does; return how it ended (``NO_INVOICE`` when no live invoice has that number)."""
    try:
        with session_scope(engine) as session:
            pressed = _resolve_in(session, workspace_id, presser, action_id)
            if isinstance(pressed, PressResult):
                return pressed
            if pressed.kind != "find":
                return PressResult(PressStatus.UNKNOWN, pressed.language)
            invoice = invoice_numbered(session, workspace_id, number, cancelled=False)
            if invoice is None or invoice.id is None:
                return PressResult(PressStatus.NO_INVOICE, pressed.language)
            taken = _claim_in(session, pressed, now)
            if taken is not None:
                return taken
            booked = pair_in(session, workspace_id, transaction_id=int(pressed.subject["transaction_id"]),
                             invoice_ids=[invoice.id], actor=presser.actor)  # fmt: skip
            deed = Deed("pair", pressed.member.name, pressed.language, pressed.subject,
                        numbers=tuple(b.invoice_number for b in booked))  # fmt: skip
            return _finish_in(session, pressed, presser, deed, render)
    except FAILURES as exc:
        return _failed(engine, workspace_id, action_id, exc)


def _resolve_in(session: Session, workspace_id: int, presser: Presser, action_id: str) -> _Pressed | PressResult:
    """Return the press when it may go ahead, else why not (a refused role is audited in ``session``)."""
    language = language_of_in(session, workspace_id)
    action = session.get(ChatActionRecord, action_id[:32])
    if action is None or action.workspace_id != workspace_id or action.kind not in PERMISSIONS:
        return PressResult(PressStatus.UNKNOWN, language)
    member = member_for_in(session, workspace_id, presser.platform, presser.user_id)
    if member is None:
        return PressResult(PressStatus.NOT_LINKED, language)
    if not PERMISSIONS[action.kind](member.role):
        audit(session, workspace_id, presser.actor, "chat.refused", "chat_action", action.id, kind=action.kind,
              member_id=member.id, role=member.role.value)  # fmt: skip
        return PressResult(PressStatus.REFUSED, language, role=member.role)
    done = _done_in(session, workspace_id, action.decision, language)
    if done is not None:
        return done
    return _Pressed(action.id, action.kind, dict(action.subject), action.decision, action.event_id, member, language)


def _done_in(session: Session, workspace_id: int, decision: str, language: str) -> PressResult | None:
    """Return "already done" with who did the decision and its outcome, or None when it is open."""
    query = select(ChatActionRecord).where(
        col(ChatActionRecord.workspace_id) == workspace_id,
        col(ChatActionRecord.decision) == decision,
        col(ChatActionRecord.done_at).is_not(None),
    )
    done = session.exec(query.limit(1)).first()
    if done is None:
        return None
    return PressResult(PressStatus.ALREADY_DONE, language, who=done.done_by or "?", outcome=done.outcome)


def _claim_in(session: Session, pressed: _Pressed, now: datetime) -> PressResult | None:
    """Mark the press's decision done by its member; return None when this press got it, else "already done".

    The claim comes before the action: a second press of the same decision (another button, another copy)
    waits for this transaction on the actions' rows, then finds the decision done, whatever the action was.
    """
    workspace_id = pressed.member.workspace_id
    claimed = session.execute(
        update(ChatActionRecord)
        .where(col(ChatActionRecord.workspace_id) == workspace_id, col(ChatActionRecord.decision) == pressed.decision,
               col(ChatActionRecord.done_at).is_(None))
        .values(done_at=now, done_by=pressed.member.name)
    )  # fmt: skip
    if claimed.rowcount:  # type: ignore[attr-defined]
        return None
    done = _done_in(session, workspace_id, pressed.decision, pressed.language)
    return done or PressResult(PressStatus.UNKNOWN, pressed.language)


def _finish_in(session: Session, pressed: _Pressed, presser: Presser, deed: Deed, render: PressRenderer) -> PressResult:
    """Record the outcome of a claimed decision, audit it and give every copy of its message the next body."""
    workspace_id = pressed.member.workspace_id
    # The next buttons are a decision of their own; the event's copies keep their event id.
    new_action = new_action_in(session, workspace_id, f"{pressed.event_id}:{secrets.token_hex(4)}", pressed.event_id)
    rendered = render(deed, _current_body_in(session, workspace_id, pressed.event_id), new_action)
    session.execute(
        update(ChatActionRecord)
        .where(col(ChatActionRecord.workspace_id) == workspace_id, col(ChatActionRecord.decision) == pressed.decision)
        .values(outcome=rendered.outcome)
    )
    audit(session, workspace_id, presser.actor, f"chat.{pressed.kind}", "chat_action", pressed.id,
          member_id=pressed.member.id, subject=pressed.subject, outcome=rendered.outcome)  # fmt: skip
    if rendered.body is not None:
        change_bodies(session, workspace_id, pressed.event_id, rendered.body)
    return PressResult(PressStatus.DONE, pressed.language, who=pressed.member.name, outcome=rendered.outcome)


def _perform_in(session: Session, pressed: _Pressed, presser: Presser, now: datetime) -> Deed:
    """Do one of the ``BOOKED`` kinds in ``session``; return what was done."""
    subject, workspace_id, actor = pressed.subject, pressed.member.workspace_id, presser.actor
    deed = Deed(pressed.kind, pressed.member.name, pressed.language, subject)
    if pressed.kind == "pair":
        expected = Decimal(subject["expected_allocated"]) if "expected_allocated" in subject else None
        booked = pair_in(session, workspace_id, transaction_id=int(subject["transaction_id"]),
                         invoice_ids=[int(i) for i in subject["invoice_ids"]], actor=actor,
                         expected_allocated=expected)  # fmt: skip
        return Deed(deed.kind, deed.who, deed.language, subject, numbers=tuple(b.invoice_number for b in booked))
    if pressed.kind == "ignore":
        ignore_in(session, workspace_id, transaction_id=int(subject["transaction_id"]), actor=actor)
        return deed
    if pressed.kind == "undo":
        transaction_id = int(subject["transaction_id"])
        unpair_transaction_in(session, workspace_id, transaction_id=transaction_id, actor=actor)
        return Deed(deed.kind, deed.who, deed.language, subject, question=question_in(session, transaction_id))
    if pressed.kind == "retry":
        view = retry_operation_in(session, workspace_id, int(subject["operation_id"]), actor=actor)
        return Deed(deed.kind, deed.who, deed.language, subject, document=view.key)
    if "item_id" in subject:  # send_again of a failed document (an invoice or a settlement): that very item again
        mark_item_again_in(session, workspace_id, int(subject["item_id"]), actor=actor, now=now)
    else:
        mark_invoices_in(session, workspace_id, [int(subject["invoice_id"])], actor=actor, now=now)
    return deed


async def _issue(sources: InvoiceSources, workspace_id: int, pressed: _Pressed, presser: Presser) -> str:
    """Issue the final invoice or the sale's invoice through its idempotent operation; return its number."""
    if pressed.kind == "final":
        view = await issue_final_invoice(sources, workspace_id, int(pressed.subject["invoice_id"]),
                                         actor=presser.actor)  # fmt: skip
    else:
        view = await invoice_sale(sources, workspace_id, int(pressed.subject["sale_id"]), actor=presser.actor)
    return _issued(view)


def _issued(view: OperationView) -> str:
    """Return the issued document's number; raises ProviderError when issuing failed or is still under way."""
    if view.status is OperationStatus.DONE:
        return str(view.result.get("number", "?"))
    if view.status is OperationStatus.FAILED:
        raise ProviderError(view.last_error or "the invoicing system refused it", permanent=True)
    raise ProviderError("the invoicing system has not answered yet; it is retried, and you will be told")


async def _renew(
    engine: Engine, workspace_id: int, feeds: BankFeeds | None, pressed: _Pressed, presser: Presser
) -> PressResult:
    """Start renewing the bank consent (the decision stays open: a link may be asked for again)."""
    if feeds is None:
        raise ReconciliationError("bank feeds are not running in this process")
    link = await renew_connection(feeds, int(pressed.subject["connection_id"]), actor=presser.actor)
    connection = connection_of(engine, workspace_id, link.connection_id)
    bank = connection.institution_name if connection is not None else ""
    return PressResult(PressStatus.RENEW, pressed.language, renewal=Renewal(bank, link.url))


def _failed(engine: Engine, workspace_id: int, action_id: str, exc: Exception) -> PressResult:
    """Return "already done" when the decision was done meanwhile (that is why the action failed), else the
    failure."""
    with Session(engine) as session:
        language = language_of_in(session, workspace_id)
        action = session.get(ChatActionRecord, action_id[:32])
        done = _done_in(session, workspace_id, action.decision, language) if action is not None else None
    return done or PressResult(PressStatus.FAILED, language, error=str(exc))


def _current_body_in(session: Session, workspace_id: int, event_id: str) -> dict[str, Any] | None:
    query = select(ChatMessageRecord.body).where(
        col(ChatMessageRecord.workspace_id) == workspace_id, col(ChatMessageRecord.event_id) == event_id
    )
    body = session.exec(query.limit(1)).first()
    return dict(body) if body else None
