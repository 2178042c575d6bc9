"""A press is decided in one transaction: interrupted anywhere before it commits, nothing happened and pressing
again works; killed after it committed, the pairing and its pending edits are both there, and a fresh delivery
worker edits every copy exactly once. An action calling an invoicing system, interrupted between the call and
its finish, finishes on the next press with the same document."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.bot.delivery import DeliveryWorker
from reconbot.core.persistence.chat_tables import ChatActionRecord, ChatMessageRecord, MessageStatus, Platform
from reconbot.core.persistence.invoicing_tables import OperationKind, OperationStatus, SourceOperationRecord
from reconbot.core.persistence.tables import AllocationRecord, AuditEventRecord, BankTransactionRecord, InvoiceRecord
from reconbot.core.roles import Role
from reconbot.core.services.chat import presses
from reconbot.core.services.chat.queue import STALE_AFTER, claim_next, due_channels
from reconbot.core.services.invoicing.sync import sync_source
from reconbot.handlers import actions
from reconbot.handlers.context import Chat
from reconbot.handlers.messages import Message
from tests.fakes.billingo import FakeBillingo
from tests.fakes.clock import FakeClock
from tests.support.books import Books
from tests.support.chat import INVOICES, PAYMENTS, RecordingTransport, add_channels, slack_user

PAIRED = "Paired with E-2026-2 by Béla Szabó"


class Crash(Exception):
    """The process dying at this point of the press."""


def crash(*args: Any, **kwargs: Any) -> None:
    raise Crash


def transports(workspace_id: int) -> dict[tuple[int, Platform], RecordingTransport]:
    return {(workspace_id, Platform.SLACK): RecordingTransport(),
            (workspace_id, Platform.TELEGRAM): RecordingTransport(platform="telegram")}  # fmt: skip


async def deliver(engine: Engine, clock: FakeClock, table: dict[tuple[int, Platform], RecordingTransport]) -> Any:
    return await DeliveryWorker(engine, dict(table), clock=clock, pace_scale=0).run_once()


async def asked(engine: Engine, workspace_id: int, clock: FakeClock, books: Books) -> Message:
    """Deliver the invoices' and payments' messages to a Slack and a Telegram channel; return the question."""
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True), (Platform.TELEGRAM, "1001", True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    table = transports(workspace_id)
    await deliver(engine, clock, table)
    return next(m for _, _, m in table[(workspace_id, Platform.SLACK)].sent if m.title.startswith("Unmatched"))


def state(engine: Engine) -> dict[str, Any]:
    """What a press may change: allocations, the waiting transaction, decisions, chat audit, the copies."""
    with Session(engine) as session:
        tx = session.exec(select(BankTransactionRecord).where(col(BankTransactionRecord.external_id) == "T2")).one()
        copies = session.exec(
            select(ChatMessageRecord).where(col(ChatMessageRecord.kind) == "unmatched_transaction")
        ).all()
        return {
            "allocations": session.exec(select(func.count()).select_from(AllocationRecord)).one(),
            "transaction": (tx.status.value, tx.allocated),
            "done": session.exec(select(ChatActionRecord.id).where(col(ChatActionRecord.done_at).is_not(None))).all(),
            "audited": session.exec(
                select(AuditEventRecord.action).where(col(AuditEventRecord.action).startswith("chat."))
            ).all(),
            "copies": sorted((c.status.value, c.needs_edit, c.edits, c.ref, str(c.body)) for c in copies),
        }


@pytest.mark.parametrize(
    ("module", "step"),
    [(presses, "change_bodies"), (presses, "audit"), (actions, "render_press")],
    ids=["editing the copies", "auditing", "wording the outcome"],
)
async def test_a_press_interrupted_after_the_pairing_leaves_nothing_and_can_be_pressed_again(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books,
    monkeypatch: pytest.MonkeyPatch, module: object, step: str,
) -> None:  # fmt: skip
    question = await asked(engine, workspace_id, clock, books)
    before = state(engine)
    monkeypatch.setattr(module, step, crash)

    with pytest.raises(Crash):
        await actions.press(chat, slack_user(Role.ACCOUNTANT), question.buttons[0].action)

    assert state(engine) == before
    assert before["allocations"] == 1 and before["done"] == [] and before["transaction"][0] == "suggested"
    monkeypatch.undo()
    reply = await actions.press(chat, slack_user(Role.ACCOUNTANT), question.buttons[0].action)
    assert reply.toast == PAIRED
    after = state(engine)
    assert after["allocations"] == 2 and after["transaction"][0] == "matched" and after["audited"] == ["chat.pair"]


async def test_a_process_dying_after_the_press_committed_edits_once_on_restart(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books
) -> None:
    question = await asked(engine, workspace_id, clock, books)
    reply = await actions.press(chat, slack_user(Role.ACCOUNTANT), question.buttons[0].action)
    assert reply.toast == PAIRED
    # The process dies here: its delivery worker never sent the edits (``chat.wake`` reached nobody).

    after = state(engine)
    assert after["allocations"] == 2 and after["transaction"] == ("matched", 50000)
    assert [(status, needs_edit) for status, needs_edit, *_ in after["copies"]] == [("sent", True), ("sent", True)]

    table = transports(workspace_id)  # a fresh process: a new worker, new transports
    first, second = await deliver(engine, clock, table), await deliver(engine, clock, table)
    assert (first.edited, second.edited, first.sent) == (2, 0, 0)
    for transport in table.values():
        (edit,) = transport.edited
        assert edit[2].note == PAIRED and [b.label for b in edit[2].buttons] == ["Undo"]
    assert [needs_edit for _, needs_edit, *_ in state(engine)["copies"]] == [False, False]


async def test_an_edit_claimed_by_a_worker_that_died_is_sent_by_the_next_one(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books
) -> None:
    question = await asked(engine, workspace_id, clock, books)
    await actions.press(chat, slack_user(Role.ACCOUNTANT), question.buttons[0].action)
    (slack_channel, _) = due_channels(engine, clock())
    assert claim_next(engine, slack_channel, "dead-worker", clock()) is not None  # claimed, then the process died

    table = transports(workspace_id)
    assert (await deliver(engine, clock, table)).edited == 1  # the other channel; the claim is still fresh
    clock.advance(seconds=STALE_AFTER.total_seconds() + 1)
    assert (await deliver(engine, clock, table)).edited == 1
    assert (await deliver(engine, clock, table)).edited == 0
    assert [len(t.edited) for t in table.values()] == [1, 1]
    with Session(engine) as session:
        statuses = session.exec(
            select(ChatMessageRecord.status).where(col(ChatMessageRecord.kind) == "unmatched_transaction")
        ).all()
    assert statuses == [MessageStatus.SENT, MessageStatus.SENT]


async def test_a_final_invoice_interrupted_before_its_finish_is_finished_by_the_next_press_with_the_same_document(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books,
    billingo: FakeBillingo, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    proforma = billingo.seed_proforma("50000", number="D-KERT-2026-7")
    await sync_source(chat.invoicing(), workspace_id, "billingo", actor="test")
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
    books.statement([("T7", "50000", "Kert Kft.", "D-KERT-2026-7")])
    table = transports(workspace_id)
    await deliver(engine, clock, table)
    told = next(m for _, _, m in table[(workspace_id, Platform.SLACK)].sent if "D-KERT-2026-7" in m.title)
    (button,) = told.buttons
    assert button.label == "Generate final invoice"

    def finals() -> list[Any]:
        return billingo.calls("POST", f"/documents/{proforma['id']}/create-from-proforma")

    monkeypatch.setattr(presses, "change_bodies", crash)
    with pytest.raises(Crash):
        await actions.press(chat, slack_user(Role.INVOICING), button.action)
    # The invoicing system issued the final invoice (its operation recorded it); the press's finish never committed.
    assert len(finals()) == 1
    with Session(engine) as session:
        operation = session.exec(
            select(SourceOperationRecord).where(col(SourceOperationRecord.kind) == OperationKind.FINAL_INVOICE)
        ).one()
        assert operation.status is OperationStatus.DONE
        assert session.exec(select(ChatActionRecord).where(col(ChatActionRecord.done_at).is_not(None))).all() == []

    monkeypatch.undo()
    reply = await actions.press(chat, slack_user(Role.INVOICING), button.action)
    number = operation.result["number"]
    assert reply.toast.startswith("Final invoice") and number in reply.toast, reply.toast
    assert len(finals()) == 1
    again = await actions.press(chat, slack_user(Role.OWNER), button.action)
    assert again.toast.startswith("Already done by Cili Tóth") and len(finals()) == 1
    assert (await deliver(engine, clock, table)).edited == 1
    (edit,) = table[(workspace_id, Platform.SLACK)].edited
    assert number in edit[2].note and edit[2].buttons == ()
    with Session(engine) as session:
        assert session.exec(select(InvoiceRecord).where(col(InvoiceRecord.number) == number)).all() != []
