"""Routing events into the chat, with a recording composer in place of the handlers' words: the facts it is
handed (the question, the invoices a manual accountant waits for), the actions stored, each event taken once."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.persistence.chat_tables import ChatActionRecord, ChatMessageRecord, Platform
from reconbot.core.persistence.tables import BankTransactionRecord, InvoiceRecord, OutboxEventRecord
from reconbot.core.services.chat.routing import route_events
from reconbot.core.services.events import EventKind
from reconbot.core.services.handoff.setup import setup_receiver
from reconbot.core.services.reconciliation.pairing import pair
from tests.fakes.clock import FakeClock
from tests.support.books import Books
from tests.support.chat import INVOICES, PAYMENTS, Composer, add_channels, routed


def invoice_id(engine: Engine, number: str) -> int:
    with Session(engine) as session:
        found = session.exec(select(InvoiceRecord.id).where(col(InvoiceRecord.number) == number)).one()
    assert found is not None
    return found


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
