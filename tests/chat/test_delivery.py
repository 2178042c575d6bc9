"""The delivery worker against a recording transport: routing, bank-data rules, digests, rate limits,
permanent errors, crashes and two workers — every event told once per channel."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.bot.delivery import DeliveryWorker
from reconbot.bot.transport import DeliveryError
from reconbot.core.persistence.chat_tables import ChatChannelRecord, ChatMessageRecord, Platform
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import OutboxEventRecord
from reconbot.core.services.chat.queue import STALE_AFTER, claim_next, due_channels
from reconbot.core.services.chat.routing import route_events
from reconbot.core.services.events import EventKind, emit
from reconbot.handlers.notifications import compose_body
from tests.fakes.clock import FakeClock
from tests.support.books import Books
from tests.support.chat import INVOICES, PAYMENTS, RecordingTransport, add_channels


def worker(engine: Engine, workspace_id: int, clock: FakeClock, *transports: RecordingTransport) -> DeliveryWorker:
    table = {(workspace_id, Platform(t.platform)): t for t in transports}
    return DeliveryWorker(engine, table, clock=clock, pace_scale=0)


def statuses(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        query = select(ChatMessageRecord.status, func.count()).group_by(col(ChatMessageRecord.status))
        return {str(status): n for status, n in session.exec(query)}


async def test_each_event_is_sent_once_per_channel_and_a_second_round_sends_nothing(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True), (Platform.SLACK, "C2", True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    transport = RecordingTransport()
    delivery = worker(engine, workspace_id, clock, transport)

    first = await delivery.run_once()
    second = await delivery.run_once()
    books.statement(PAYMENTS)  # the same statement again: no new transaction, no new event
    third = await delivery.run_once()

    titles = sorted((address, m.title) for address, _, m in transport.sent)
    assert titles == sorted(
        [(c, "Payment received: HUF127,000 from Kert Kft.") for c in ("C1", "C2")]
        + [(c, "Unmatched payment: HUF50,000 from Ismeretlen Péter") for c in ("C1", "C2")]
    )
    assert (first.sent, second.sent, third.sent, third.routed) == (4, 0, 0, 0)
    assert statuses(engine) == {"sent": 4}


async def test_bank_data_goes_only_to_channels_allowed_to_show_it(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    add_channels(engine, workspace_id, (Platform.SLACK, "C-OWNERS", True), (Platform.SLACK, "C-ALL", False))
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    with session_scope(engine) as session:
        emit(session, workspace_id, EventKind.CONSENT_EXPIRING, "consent:1", {"connection_id": 1, "bank": "OTP",
             "valid_until": "2026-03-10T00:00:00+00:00", "days_left": 8, "reminder": 8})  # fmt: skip
    transport = RecordingTransport()
    await worker(engine, workspace_id, clock, transport).run_once()

    shared = [m.title for address, _, m in transport.sent if address == "C-ALL"]
    assert shared == ["Bank access to OTP ends in 8 days"]
    assert len([a for a, _, _ in transport.sent if a == "C-OWNERS"]) == 3


async def test_events_wait_until_a_channel_exists(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    transport = RecordingTransport()
    delivery = worker(engine, workspace_id, clock, transport)
    assert (await delivery.run_once()).routed == 0
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
    assert (await delivery.run_once()).sent == 2


async def test_a_flood_becomes_one_digest_and_nothing_is_lost(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
    books.invoices(INVOICES)
    rows = [(f"F{n}", str(1000 + n), f"Payer {n}", f"ref {n}") for n in range(300)]
    books.statement(rows)
    transport = RecordingTransport()
    done = await worker(engine, workspace_id, clock, transport).run_once()

    assert (done.sent, done.digests) == (1, 1)
    digest = transport.sent[0][2]
    assert digest.title == "300 new bank events"
    assert "Waiting for you: 300" in digest.lines
    # The most important items: the largest amounts first.
    assert digest.lines[2].startswith("HUF1,299 · Payer 299")
    assert [b.label for b in digest.buttons] == ["Show all"]
    assert statuses(engine) == {"digested": 300, "sent": 1}


async def test_rate_limit_postpones_by_retry_after_then_sends_once(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS[:1])
    transport = RecordingTransport(failures=[DeliveryError("ratelimited", retry_after=30)])
    delivery = worker(engine, workspace_id, clock, transport)

    assert (await delivery.run_once()).postponed == 1
    clock.advance(seconds=29)
    assert (await delivery.run_once()).sent == 0
    clock.advance(seconds=2)
    assert (await delivery.run_once()).sent == 1
    assert len(transport.sent) == 1


async def test_a_permanent_error_marks_the_channel_and_stops_sending_there(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    (gone, _) = add_channels(engine, workspace_id, (Platform.SLACK, "C-GONE", True), (Platform.TELEGRAM, "42", True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    slack = RecordingTransport(failures=[DeliveryError("channel_not_found", permanent=True)])
    telegram = RecordingTransport(platform="telegram")
    delivery = worker(engine, workspace_id, clock, slack, telegram)
    await delivery.run_once()
    await delivery.run_once()

    assert slack.sent == [] and len(telegram.sent) == 2
    with Session(engine) as session:
        channel = session.get(ChatChannelRecord, gone)
        assert channel is not None and channel.problem == "channel_not_found"
    assert [c.id for c in due_channels(engine, clock())] == []


async def test_a_claim_left_by_a_crashed_worker_is_taken_over_after_a_while(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS[:1])
    transport = RecordingTransport()
    delivery = worker(engine, workspace_id, clock, transport)
    await delivery.run_once()  # routes and sends
    books.statement([("T9", "9000", "Új Kft.", "x")])
    route_events(engine, clock(), compose_body)
    (channel,) = due_channels(engine, clock())
    assert claim_next(engine, channel, "crashed-worker", clock()) is not None  # then the worker died

    assert (await delivery.run_once()).sent == 0  # claimed by someone else, not stale yet
    clock.advance(seconds=STALE_AFTER.total_seconds() + 1)
    assert (await delivery.run_once()).sent == 1
    assert len(transport.sent) == 2


async def test_two_workers_at_once_send_every_message_once(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True), (Platform.SLACK, "C2", True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    transport = RecordingTransport()
    first, second = worker(engine, workspace_id, clock, transport), worker(engine, workspace_id, clock, transport)
    await asyncio.gather(first.run_once(), second.run_once())
    await asyncio.gather(first.run_once(), second.run_once())

    keys = [(address, m.title) for address, _, m in transport.sent]
    assert len(keys) == 4 and len(set(keys)) == 4
    with Session(engine) as session:
        undelivered = (
            select(func.count()).select_from(OutboxEventRecord).where(col(OutboxEventRecord.delivered_at).is_(None))
        )
        assert session.exec(undelivered).one() == 0


async def test_a_passing_failure_is_retried_later(
    engine: Engine, workspace_id: int, books: Books, clock: FakeClock
) -> None:
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS[:1])
    transport = RecordingTransport(failures=[DeliveryError("connection reset")])
    delivery = worker(engine, workspace_id, clock, transport)
    assert (await delivery.run_once()).postponed == 1
    clock.advance(minutes=1)
    assert (await delivery.run_once()).sent == 1
    assert statuses(engine) == {"sent": 1}
