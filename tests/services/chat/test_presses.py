"""Pressing a chat button, with a recording renderer in place of the handlers' words: what a press hands its
renderer and stores, who may press what, refusals audited, and two buttons of one decision pressed at once."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.persistence.chat_tables import ChatActionRecord, ChatMessageRecord, Platform
from reconbot.core.persistence.tables import AuditEventRecord, BankTransactionRecord
from reconbot.core.roles import Role
from reconbot.core.services.chat import presses
from reconbot.core.services.chat.actions import NewAction
from reconbot.core.services.chat.presses import Deed, Presser, PressStatus, Rendered
from reconbot.core.services.events import EventKind
from tests.fakes.clock import FakeClock
from tests.support.books import Books
from tests.support.chat import SLACK_USERS, Composer, routed


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
