"""The chat services on their own, with recording composers and renderers in place of the handlers' words:
what facts routing gathers, what a press hands its renderer, and the subscribing policy."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.errors import SetupError
from reconbot.core.persistence.chat_tables import ChatActionRecord, ChatMessageRecord, Platform
from reconbot.core.persistence.tables import AuditEventRecord, BankTransactionRecord, InvoiceRecord, OutboxEventRecord
from reconbot.core.roles import Role
from reconbot.core.services.chat import listing, presses
from reconbot.core.services.chat.actions import NewAction
from reconbot.core.services.chat.presses import Deed, Presser, PressStatus, Rendered
from reconbot.core.services.chat.routing import EventFacts, route_events
from reconbot.core.services.chat.setup import channels
from reconbot.core.services.chat.subscribing import caller, link_chat, subscribe_here
from reconbot.core.services.events import EventKind
from reconbot.core.services.handoff.setup import setup_receiver
from reconbot.core.services.people.members import add_member, issue_link_code
from reconbot.core.services.reconciliation.pairing import pair
from tests.chat.conftest import INVOICES, PAYMENTS, SLACK_USERS, Books, add_channels
from tests.fakes.clock import FakeClock


@dataclass
class Composer:
    """Records the facts it is given; every event gets one button and a body naming its kind."""

    seen: list[EventFacts] = field(default_factory=list)
    silent: bool = False

    def __call__(self, facts: EventFacts, new_action: NewAction) -> dict[str, Any] | None:
        self.seen.append(facts)
        subject: dict[str, Any] = {"transaction_id": 0}
        if facts.question is not None:  # the button pairs with the last candidate
            last = facts.question.candidates[-1]
            subject = {"transaction_id": facts.question.transaction_id, "invoice_ids": list(last.invoice_ids)}
        action = new_action("pair", subject)
        return None if self.silent else {"title": facts.kind, "buttons": [{"label": "b", "action": action}]}

    def of(self, kind: str) -> list[EventFacts]:
        return [f for f in self.seen if f.kind == kind]


@dataclass
class Renderer:
    """Records each deed and the body it was given; answers a fixed outcome and a body with one next button."""

    deeds: list[tuple[Deed, dict[str, Any] | None]] = field(default_factory=list)
    next_action: str = ""

    def __call__(self, deed: Deed, body: dict[str, Any] | None, new_action: NewAction) -> Rendered:
        self.deeds.append((deed, body))
        self.next_action = new_action("undo", {"transaction_id": 1})
        return Rendered(f"{deed.kind} by {deed.who}", {"title": "next", "note": deed.kind})


def owner() -> Presser:
    return Presser(Platform.SLACK, SLACK_USERS[Role.OWNER])


def invoice_id(engine: Engine, number: str) -> int:
    with Session(engine) as session:
        found = session.exec(select(InvoiceRecord.id).where(col(InvoiceRecord.number) == number)).one()
    assert found is not None
    return found


def routed(engine: Engine, workspace_id: int, books: Books, clock: FakeClock, composer: Composer) -> int:
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    return route_events(engine, clock(), composer)


def test_routing_hands_the_composer_the_question_and_stores_its_actions(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    composer = Composer()
    assert routed(engine, workspace_id, books, clock, composer) == 2
    (asked,) = composer.of(EventKind.UNMATCHED_TRANSACTION)
    question = asked.question
    assert question is not None and asked.language == "en"
    assert (question.amount, question.currency, question.counterparty) == (Decimal(50000), "HUF", "Ismeretlen Péter")
    assert [(c.numbers, c.open_amount) for c in question.candidates] == [
        (("E-2026-2",), Decimal(50000)), (("E-2026-3",), Decimal(50000)),
    ]  # fmt: skip
    (matched,) = composer.of(EventKind.PAYMENT_MATCHED)
    assert matched.question is None and matched.hand_over == ()  # no accountant set up
    with Session(engine) as session:
        bodies = session.exec(select(ChatMessageRecord.event_id, ChatMessageRecord.body)).all()
        stored = {a.id: a.decision for a in session.exec(select(ChatActionRecord))}
    assert {event_id: stored[body["buttons"][0]["action"]] for event_id, body in bodies} == {
        event_id: event_id for event_id, _ in bodies
    }
    assert route_events(engine, clock(), composer) == 0 and len(composer.seen) == 2  # each event is taken once


def test_an_event_the_composer_does_not_tell_is_taken_and_never_offered_again(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    composer = Composer(silent=True)
    assert routed(engine, workspace_id, books, clock, composer) == 0
    assert len(composer.seen) == 2
    assert route_events(engine, clock(), composer) == 0 and len(composer.seen) == 2
    with Session(engine) as session:
        assert session.exec(select(OutboxEventRecord).where(col(OutboxEventRecord.delivered_at).is_(None))).all() == []


def test_a_matched_payment_names_the_invoices_a_manual_accountant_waits_for(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    setup_receiver(engine, workspace_id, "webhook", {"url": "https://books.example/hook", "secret": "s" * 24},
                   actor="test", now=clock(), auto_mode=False)  # fmt: skip
    composer = Composer()
    routed(engine, workspace_id, books, clock, composer)
    (matched,) = composer.of(EventKind.PAYMENT_MATCHED)
    assert matched.hand_over == (invoice_id(engine, "E-2026-1"),)


def test_a_question_answered_before_routing_is_not_asked(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    with Session(engine) as session:
        tx = session.exec(select(BankTransactionRecord.id).where(col(BankTransactionRecord.external_id) == "T2")).one()
    assert tx is not None
    pair(engine, workspace_id, transaction_id=tx, invoice_ids=[invoice_id(engine, "E-2026-2")], actor="admin:anna")
    composer = Composer()
    route_events(engine, clock(), composer)
    assert composer.of(EventKind.UNMATCHED_TRANSACTION) == []


async def test_a_press_hands_the_renderer_its_deed_and_stores_what_it_renders(
    engine: Engine, workspace_id: int, members: dict[Role, int], books: Books, clock: FakeClock
) -> None:
    routed(engine, workspace_id, books, clock, Composer())
    with Session(engine) as session:
        (message,) = session.exec(
            select(ChatMessageRecord).where(col(ChatMessageRecord.kind) == EventKind.UNMATCHED_TRANSACTION)
        ).all()
    action = message.body["buttons"][0]["action"]
    render = Renderer()

    result = await presses.press(engine, workspace_id, owner(), action, render, now=clock())

    assert (result.status, result.outcome, result.who) == (PressStatus.DONE, "pair by Anna Kovács", "Anna Kovács")
    ((deed, body),) = render.deeds
    assert (deed.kind, deed.numbers, deed.language) == ("pair", ("E-2026-3",), "en")
    assert body == message.body
    with Session(engine) as session:
        copy = session.get(ChatMessageRecord, message.id)
        pressed, following = session.get(ChatActionRecord, action), session.get(ChatActionRecord, render.next_action)
    assert copy is not None and copy.body == {"title": "next", "note": "pair"} and copy.edits == 1
    assert pressed is not None and (pressed.done_by, pressed.outcome) == ("Anna Kovács", "pair by Anna Kovács")
    assert following is not None and following.decision != pressed.decision and following.done_at is None
    again = await presses.press(engine, workspace_id, owner(), action, render, now=clock())
    assert (again.status, again.who, again.outcome) == (PressStatus.ALREADY_DONE, "Anna Kovács", "pair by Anna Kovács")
    assert len(render.deeds) == 1


async def test_a_refused_press_is_audited_and_renders_nothing(
    engine: Engine, workspace_id: int, members: dict[Role, int], books: Books, clock: FakeClock
) -> None:
    routed(engine, workspace_id, books, clock, Composer())
    with Session(engine) as session:
        action = session.exec(select(ChatActionRecord.id)).first()
    assert action is not None
    render = Renderer()
    operator = Presser(Platform.SLACK, SLACK_USERS[Role.OPERATOR])
    result = await presses.press(engine, workspace_id, operator, action, render, now=clock())
    assert (result.status, result.role) == (PressStatus.REFUSED, Role.OPERATOR)
    assert render.deeds == []
    with Session(engine) as session:
        audited = session.exec(select(AuditEventRecord).where(col(AuditEventRecord.action) == "chat.refused")).one()
    assert (audited.actor, audited.entity_id, audited.data["role"]) == ("slack:U0OPER", action, "operator")
    stranger = await presses.press(engine, workspace_id, Presser(Platform.SLACK, "U0NOBODY"), action, render,
                                   now=clock())  # fmt: skip
    forged = await presses.press(engine, workspace_id, owner(), "forged", render, now=clock())
    assert (stranger.status, forged.status) == (PressStatus.NOT_LINKED, PressStatus.UNKNOWN)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OWNER, {"pair", "find", "ignore", "undo", "show_all", "final", "sale", "retry", "send_again", "renew"}),
        (Role.ACCOUNTANT, {"pair", "find", "ignore", "undo", "show_all", "retry"}),
        (Role.INVOICING, {"final", "sale", "retry", "send_again"}),
        (Role.OPERATOR, set()),
    ],
)
def test_who_may_press_what(role: Role, allowed: set[str]) -> None:
    assert {kind for kind, may in presses.PERMISSIONS.items() if may(role)} == allowed


def test_the_waiting_transactions_and_an_invoices_payers_as_facts(
    engine: Engine, workspace_id: int, books: Books
) -> None:
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    waiting = listing.waiting_transactions(engine, workspace_id, limit=5)
    assert waiting.count == 1
    assert [(t.amount, t.counterparty, t.reference) for t in waiting.largest] == [
        (Decimal(50000), "Ismeretlen Péter", "befizetés")
    ]
    seen = listing.invoice_payment(engine, workspace_id, " e-2026-1 ", bank_data=True)
    hidden = listing.invoice_payment(engine, workspace_id, "E-2026-1", bank_data=False)
    assert seen is not None and hidden is not None
    assert (seen.number, seen.paid, seen.gross) == ("E-2026-1", Decimal(127000), Decimal(127000))
    assert [p.payer for p in seen.payments] == ["Kert Kft."] and hidden.payments == ()
    assert listing.invoice_payment(engine, workspace_id, "NOPE", bank_data=True) is None


def test_here_is_for_those_who_set_up_chat_and_only_their_private_chat_gets_bank_data(
    engine: Engine, workspace_id: int, members: dict[Role, int]
) -> None:
    accountant = SLACK_USERS[Role.ACCOUNTANT]
    assert caller(engine, workspace_id, Platform.SLACK, accountant).bank_data
    assert not caller(engine, workspace_id, Platform.SLACK, accountant).may_set_up
    assert subscribe_here(engine, workspace_id, Platform.SLACK, accountant, "C9", private=False) is None
    assert channels(engine, workspace_id) == []
    shared = subscribe_here(engine, workspace_id, Platform.SLACK, SLACK_USERS[Role.OWNER], "C9", private=False)
    private = subscribe_here(engine, workspace_id, Platform.SLACK, SLACK_USERS[Role.OWNER], "D9", private=True)
    assert shared is not None and private is not None
    assert (shared.bank_data, shared.group, private.bank_data, private.group) == (False, True, True, False)


def test_a_link_code_and_its_private_chat_are_one_transaction(
    engine: Engine, workspace_id: int, clock: FakeClock
) -> None:
    member = add_member(engine, workspace_id, "Éva Nagy", Role.ACCOUNTANT, actor="test")
    code = issue_link_code(engine, workspace_id, member.id, actor="test", now=clock())
    with pytest.raises(SetupError):  # the private chat cannot be added: the code must stay unused
        link_chat(engine, workspace_id, code, Platform.TELEGRAM, "5005", " ", private=True, now=clock())
    assert caller(engine, workspace_id, Platform.TELEGRAM, "5005").member is None
    linked = link_chat(engine, workspace_id, code, Platform.TELEGRAM, "5005", "5005", private=True, now=clock())
    assert linked.name == "Éva Nagy"
    assert [(c.address, c.bank_data, c.name) for c in channels(engine, workspace_id)] == [("5005", True, "Éva Nagy")]


async def test_two_buttons_of_one_decision_pressed_at_once_do_one_thing(
    engine: Engine, workspace_id: int, members: dict[Role, int], books: Books, clock: FakeClock
) -> None:
    routed(engine, workspace_id, books, clock, Composer())
    with Session(engine) as session:
        (message,) = session.exec(
            select(ChatMessageRecord).where(col(ChatMessageRecord.kind) == EventKind.UNMATCHED_TRANSACTION)
        ).all()
        (pair_action,) = [a.id for a in session.exec(select(ChatActionRecord)) if a.event_id == message.event_id]
        pressed = session.get(ChatActionRecord, pair_action)
        assert pressed is not None
        transaction_id = int(pressed.subject["transaction_id"])
        # A second button of the same decision: "Not an invoice payment".
        session.add(ChatActionRecord(id="ignore-1", workspace_id=workspace_id, decision=pressed.decision,
                                     event_id=message.event_id, kind="ignore",
                                     subject={"transaction_id": transaction_id}))  # fmt: skip
        session.commit()
    start = threading.Barrier(2)

    def pressing(user: str, action: str) -> PressStatus:
        start.wait()
        presser = Presser(Platform.SLACK, SLACK_USERS[Role.OWNER if user == "owner" else Role.ACCOUNTANT])
        return asyncio.run(presses.press(engine, workspace_id, presser, action, Renderer(), now=clock())).status

    outcomes = await asyncio.gather(asyncio.to_thread(pressing, "owner", pair_action),
                                    asyncio.to_thread(pressing, "accountant", "ignore-1"))  # fmt: skip
    assert sorted(outcomes) == [PressStatus.ALREADY_DONE, PressStatus.DONE]
    with Session(engine) as session:
        tx = session.get(BankTransactionRecord, transaction_id)
        assert tx is not None
        paired = outcomes[0] is PressStatus.DONE
        assert (tx.status.value, tx.allocated) == (("matched", Decimal(50000)) if paired else ("ignored", 0))
