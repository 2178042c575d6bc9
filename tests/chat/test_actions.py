"""Button presses through the platform-free handlers: permissions, once-only decisions, edits, audit."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.bot.delivery import DeliveryWorker
from reconbot.core.persistence.chat_tables import ChatActionRecord, ChatMessageRecord, Platform
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import (
    AllocationRecord,
    AuditEventRecord,
    BankTransactionRecord,
    Language,
    WorkspaceRecord,
)
from reconbot.core.roles import Role
from reconbot.handlers import actions
from reconbot.handlers.context import Chat, ChatUser
from reconbot.handlers.messages import Message
from tests.fakes.clock import FakeClock
from tests.support.books import Books
from tests.support.chat import INVOICES, PAYMENTS, RecordingTransport, add_channels, slack_user, telegram_user


async def delivered(engine: Engine, workspace_id: int, clock: FakeClock, books: Books) -> RecordingTransport:
    """Import the invoices and payments and deliver their messages to a Slack and a Telegram channel."""
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True), (Platform.TELEGRAM, "1001", True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    transport = RecordingTransport()
    telegram = RecordingTransport(platform="telegram")
    table = {(workspace_id, Platform.SLACK): transport, (workspace_id, Platform.TELEGRAM): telegram}
    await DeliveryWorker(engine, table, clock=clock, pace_scale=0).run_once()
    return transport


def unmatched(transport: RecordingTransport) -> Message:
    return next(m for _, _, m in transport.sent if m.title.startswith("Unmatched"))


def allocations(engine: Engine) -> list[tuple[int, str]]:
    with Session(engine) as session:
        query = select(AllocationRecord).where(col(AllocationRecord.undone_at).is_(None))
        return [(a.invoice_id, a.created_by) for a in session.exec(query)]


def audit_actions(engine: Engine) -> list[str]:
    with Session(engine) as session:
        query = select(AuditEventRecord.action).where(col(AuditEventRecord.action).startswith("chat."))
        return list(session.exec(query.order_by(col(AuditEventRecord.id))))


async def test_a_candidate_button_pairs_once_and_every_copy_is_edited(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books
) -> None:
    transport = await delivered(engine, workspace_id, clock, books)
    question = unmatched(transport)
    assert [b.label for b in question.buttons] == [
        "Pair with E-2026-2", "Pair with E-2026-3", "Find invoice…", "Not an invoice payment",
    ]  # fmt: skip
    before = len(allocations(engine))

    reply = await actions.press(chat, slack_user(Role.ACCOUNTANT), question.buttons[0].action)
    again = await actions.press(chat, telegram_user(Role.OWNER), question.buttons[1].action)

    assert reply.toast == "Paired with E-2026-2 by Béla Szabó"
    assert again.toast == "Already done by Béla Szabó: Paired with E-2026-2 by Béla Szabó"
    assert len(allocations(engine)) == before + 1
    assert "slack:U0ACCOUNT" in {by for _, by in allocations(engine)}
    with Session(engine) as session:
        copies = session.exec(select(ChatMessageRecord).where(col(ChatMessageRecord.kind) == "unmatched_transaction"))
        edited = [(c.needs_edit, Message.from_json(c.body)) for c in copies]
    assert len(edited) == 2
    for needs_edit, body in edited:
        assert needs_edit and body.note == "Paired with E-2026-2 by Béla Szabó"
        assert [b.label for b in body.buttons] == ["Undo"]
    assert audit_actions(engine) == ["chat.pair"]


async def test_roles_without_bank_rights_are_refused_and_nothing_changes(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books
) -> None:
    question = unmatched(await delivered(engine, workspace_id, clock, books))
    before = allocations(engine)
    for role in (Role.OPERATOR, Role.INVOICING):
        reply = await actions.press(chat, slack_user(role), question.buttons[0].action)
        assert reply.toast == f"Sorry, your role ({role.value}) may not do this."
    stranger = await actions.press(chat, ChatUser(Platform.SLACK, "U0NOBODY"), question.buttons[0].action)
    assert stranger.toast.startswith("Your chat account is not linked")
    assert allocations(engine) == before
    assert audit_actions(engine) == ["chat.refused", "chat.refused"]


async def test_forged_or_foreign_action_ids_do_nothing(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books
) -> None:
    question = unmatched(await delivered(engine, workspace_id, clock, books))
    with session_scope(engine) as session:
        other = WorkspaceRecord(slug="other", name="Other", country="PL", language=Language.EN)
        session.add(other)
        session.flush()
        assert other.id is not None
        other_id = other.id
    foreign = Chat(engine, other_id, clock=clock)
    before = allocations(engine)
    assert (await actions.press(chat, slack_user(Role.OWNER), "not-an-id")).toast == "This button no longer works."
    assert (await actions.press(foreign, slack_user(Role.OWNER), question.buttons[0].action)).toast == (
        "This button no longer works."
    )
    assert allocations(engine) == before


async def test_undo_restores_the_question_with_fresh_buttons(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books
) -> None:
    question = unmatched(await delivered(engine, workspace_id, clock, books))
    await actions.press(chat, slack_user(Role.OWNER), question.buttons[0].action)
    undo = Message.from_json(_body(engine, "unmatched_transaction")).buttons[0]
    reply = await actions.press(chat, telegram_user(Role.ACCOUNTANT), undo.action)
    assert reply.toast == "Pairing undone by Béla Szabó"
    body = Message.from_json(_body(engine, "unmatched_transaction"))
    assert body.note == "Pairing undone by Béla Szabó"
    assert [b.label for b in body.buttons][-2:] == ["Find invoice…", "Not an invoice payment"]
    assert body.buttons[0].action not in {b.action for b in question.buttons}
    # The old buttons are spent; the new ones work.
    assert (await actions.press(chat, slack_user(Role.OWNER), question.buttons[1].action)).toast.startswith("Already")
    assert (await actions.press(chat, slack_user(Role.OWNER), body.buttons[1].action)).toast == (
        "Paired with E-2026-3 by Anna Kovács"
    )


async def test_find_invoice_asks_for_a_number_and_pairs_with_it(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books
) -> None:
    question = unmatched(await delivered(engine, workspace_id, clock, books))
    find = question.buttons[2]
    reply = await actions.press(chat, telegram_user(Role.OWNER), find.action)
    assert reply.ask_number == find.action
    actions.remember_prompt(chat, find.action, "1001:77")
    assert actions.prompt_action(chat, "1001:77") == find.action
    assert actions.prompt_action(chat, "1001:78") is None

    wrong = await actions.answer_number(chat, telegram_user(Role.OWNER), find.action, "E-9999")
    assert wrong.toast == "There is no invoice E-9999."
    paired = await actions.answer_number(chat, telegram_user(Role.OWNER), find.action, "e-2026-3")
    assert paired.toast == "Paired with E-2026-3 by Anna Kovács"
    assert (await actions.answer_number(chat, telegram_user(Role.OWNER), find.action, "E-2026-2")).toast.startswith(
        "Already done by Anna Kovács"
    )


async def test_not_an_invoice_payment_sets_the_transaction_aside(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books
) -> None:
    question = unmatched(await delivered(engine, workspace_id, clock, books))
    reply = await actions.press(chat, slack_user(Role.OWNER), question.buttons[3].action)
    assert reply.toast == "Marked as not an invoice payment by Anna Kovács"
    with Session(engine) as session:
        tx = session.exec(select(BankTransactionRecord).where(col(BankTransactionRecord.external_id) == "T2")).one()
        assert tx.status.value == "ignored" and tx.ignored_by == "slack:U0OWNER"
        spent = session.exec(select(ChatActionRecord).where(col(ChatActionRecord.done_at).is_not(None))).all()
    assert len(spent) == 4  # every button of the question is spent


def _body(engine: Engine, kind: str) -> dict[str, object]:
    with Session(engine) as session:
        query = select(ChatMessageRecord.body).where(col(ChatMessageRecord.kind) == kind)
        return dict(session.exec(query).first() or {})
