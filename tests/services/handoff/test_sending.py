"""Handing invoices and settlements to the accountant: marking, sending exactly once, retries, backfill, states."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from reconbot.core.domain import Direction, InvoiceKind
from reconbot.core.errors import ReconciliationError, SetupError
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.handoff_tables import HandoffItemRecord, ItemState
from reconbot.core.persistence.tables import OutboxEventRecord
from reconbot.core.services.events import EventKind
from reconbot.core.services.handoff.marking import DocumentState, document_states, mark_invoices
from reconbot.core.services.handoff.sending import MAX_ATTEMPTS, send_due
from reconbot.core.services.handoff.setup import backfill, list_receivers, setup_receiver
from tests.fakes.clock import FakeClock
from tests.support.handoff import CONTEXT, Books, Smtp, Webhook, connect, run


def items(engine: Engine) -> list[HandoffItemRecord]:
    with Session(engine) as session:
        return list(session.exec(select(HandoffItemRecord).order_by(col(HandoffItemRecord.id))).all())


async def test_auto_mode_sends_new_invoices_then_their_settlements_signed(books: Books, webhook: Webhook,
                                                                         clock: FakeClock) -> None:  # fmt: skip
    old = books.invoice("E-2026-1")  # stored before auto mode: only the backfill hands it over
    clock.advance(minutes=1)
    connect(books, webhook, auto=True)
    invoice = books.invoice("E-2026-2")
    advance = books.invoice("E-2026-3", kind=InvoiceKind.ADVANCE)
    books.invoice("P-2026-1", kind=InvoiceKind.PROFORMA)
    books.invoice("S-77", direction=Direction.RECEIVED)
    assert await run(books, force=False) == (2, 2, 0, 0)
    sent = sorted(d["invoice"]["number"] for d in webhook.fake.documents.values())
    assert sent == ["E-2026-2", "E-2026-3"]
    assert all(webhook.fake.verified(r) for r in webhook.fake.requests)
    assert {d["type"] for d in webhook.fake.documents.values()} == {"invoice", "advance"}

    books.payment(invoice, "127000", key="tx1")
    clock.advance(minutes=10)
    assert await run(books, force=False) == (0, 0, 0, 0)  # the next round is 30 minutes after the last
    clock.advance(minutes=20)
    assert await run(books, force=False) == (1, 1, 0, 0)
    settlement = [d for d in webhook.fake.documents.values() if d["type"] == "settlement"]
    assert len(settlement) == 1 and Decimal(settlement[0]["settlement"]["amount"]) == 127000
    states = document_states(books.engine, books.workspace_id, [old, invoice, advance])
    assert states[old].state is DocumentState.NOT_SENT
    assert states[invoice].state is DocumentState.SENT and "HTTP 200" in states[invoice].answer
    assert states[invoice].at == clock.now.replace(minute=1)


async def test_manual_mode_sends_only_what_a_person_marks_once(books: Books, webhook: Webhook) -> None:
    invoice = books.invoice("E-2026-1")
    connect(books, webhook, auto=False)
    books.invoice("E-2026-2")
    assert await run(books) == (0, 0, 0, 0)
    assert mark_invoices(books.engine, books.workspace_id, [invoice], actor="cli:anna", now=books.clock()) == 1
    assert mark_invoices(books.engine, books.workspace_id, [invoice], actor="cli:anna", now=books.clock()) == 0
    assert document_states(books.engine, books.workspace_id, [invoice])[invoice].state is DocumentState.WAITING
    assert await run(books) == (0, 1, 0, 0)
    assert [d["invoice"]["number"] for d in webhook.fake.documents.values()] == ["E-2026-1"]
    assert mark_invoices(books.engine, books.workspace_id, [invoice], actor="cli:anna", now=books.clock()) == 0
    assert await run(books) == (0, 0, 0, 0) and len(webhook.fake.requests) == 1
    received = books.invoice("S-1", direction=Direction.RECEIVED)
    with pytest.raises(ReconciliationError, match="not an issued invoice"):
        mark_invoices(books.engine, books.workspace_id, [received], actor="cli:anna", now=books.clock())


async def test_a_crash_after_sending_never_makes_a_second_document(books: Books, webhook: Webhook,
                                                                  clock: FakeClock) -> None:  # fmt: skip
    connect(books, webhook, auto=True)
    books.invoice("E-2026-1")
    assert await run(books) == (1, 1, 0, 0)
    # The process sent it and died before recording so: the item is left "sending".
    with session_scope(books.engine) as session:
        session.execute(update(HandoffItemRecord).values(state=ItemState.SENDING, sent_at=None, claimed_at=clock.now))
    clock.advance(minutes=1)
    assert await run(books) == (0, 0, 0, 0)  # a fresh claim may still be at work: left alone
    clock.advance(minutes=10)
    assert await run(books) == (0, 1, 0, 0)  # taken over after the stale limit, sent with the same key
    assert len(webhook.fake.requests) == 2 and len(webhook.fake.documents) == 1
    assert webhook.fake.requests[0].key == webhook.fake.requests[1].key
    assert await run(books) == (0, 0, 0, 0) and len(webhook.fake.requests) == 2
    assert [i.state for i in items(books.engine)] == [ItemState.SENT]


async def test_a_failure_is_retried_later_and_a_settlement_waits_for_its_invoice(books: Books, webhook: Webhook,
                                                                                clock: FakeClock) -> None:  # fmt: skip
    connect(books, webhook, auto=True)
    invoice = books.invoice("E-2026-1")
    books.payment(invoice, "100000", key="tx1")
    webhook.fake.failures = 1
    assert await run(books) == (2, 0, 1, 0)  # the invoice failed; its settlement was not tried
    assert document_states(books.engine, books.workspace_id, [invoice])[invoice].state is DocumentState.WAITING
    assert await run(books, force=False) == (0, 0, 0, 0)  # its retry is a minute away
    clock.advance(minutes=1)
    assert await run(books, force=False) == (0, 1, 0, 0)  # the invoice; the settlement waits for its round
    assert await run(books) == (0, 1, 0, 0)
    assert [i.state for i in items(books.engine)] == [ItemState.SENT, ItemState.SENT]


async def test_failing_for_good_ends_failed_with_one_event(books: Books, webhook: Webhook, clock: FakeClock) -> None:
    connect(books, webhook, auto=True)
    invoice = books.invoice("E-2026-1")
    webhook.fake.always_fail = True
    for _ in range(MAX_ATTEMPTS):
        await run(books)
        clock.advance(hours=5)
    assert [(i.state, i.attempts) for i in items(books.engine)] == [(ItemState.FAILED, MAX_ATTEMPTS)]
    await run(books)
    assert len(webhook.fake.requests) == MAX_ATTEMPTS
    with Session(books.engine) as session:
        events = session.exec(select(OutboxEventRecord).where(col(OutboxEventRecord.kind) == EventKind.HANDOFF_FAILED))
        payloads = [e.payload for e in events]
    assert len(payloads) == 1 and payloads[0]["invoice_number"] == "E-2026-1"
    assert "HTTP 500" in payloads[0]["error"]
    state = document_states(books.engine, books.workspace_id, [invoice])[invoice]
    assert state.state is DocumentState.FAILED and "HTTP 500" in state.error
    # Marking it again gives it a fresh round.
    webhook.fake.always_fail = False
    assert mark_invoices(books.engine, books.workspace_id, [invoice], actor="cli:anna", now=clock()) == 1
    assert await run(books) == (0, 1, 0, 0)


async def test_backfill_marks_from_a_date_and_only_once(books: Books, webhook: Webhook) -> None:
    connect(books, webhook, auto=False)
    books.invoice("E-2025-9", issued=date(2025, 12, 20))
    books.invoice("E-2026-1", issued=date(2026, 1, 2))
    books.invoice("E-2026-2", issued=date(2026, 2, 2))
    assert backfill(books.engine, books.workspace_id, date(2026, 1, 1), actor="cli:anna", now=books.clock()) == 2
    with pytest.raises(SetupError, match=r"already used on 2026-03-02 \(from 2026-01-01, by cli:anna\)"):
        backfill(books.engine, books.workspace_id, date(2025, 1, 1), actor="cli:anna", now=books.clock())
    assert list_receivers(books.engine, books.workspace_id)[0].backfill_used
    assert await run(books) == (0, 2, 0, 0)
    assert sorted(d["invoice"]["number"] for d in webhook.fake.documents.values()) == ["E-2026-1", "E-2026-2"]


def test_setup_checks_settings_and_masks_secrets(books: Books) -> None:
    with pytest.raises(SetupError, match="not an http"):
        setup_receiver(books.engine, books.workspace_id, "webhook", {"url": "ftp://x", "secret": "s"},
                       actor="cli:anna", now=books.clock())  # fmt: skip
    assert list_receivers(books.engine, books.workspace_id) == []
    view = setup_receiver(books.engine, books.workspace_id, "email",
                          {"host": "mail.example", "port": "587", "sender": "bot@kert.hu", "to": "konyv@iroda.hu",
                           "user": "bot", "password": "very-secret-password-1234"},
                          actor="cli:anna", now=books.clock(), interval_minutes=60)  # fmt: skip
    assert view.settings["password"] == "••••1234" and view.interval_minutes == 60
    # A change without the password keeps the stored one.
    again = setup_receiver(books.engine, books.workspace_id, "email", {"to": "uj@iroda.hu"}, actor="cli:anna",
                           now=books.clock())  # fmt: skip
    assert again.settings["to"] == "uj@iroda.hu" and again.settings["password"] == "••••1234"
    with pytest.raises(SetupError, match="interval"):
        setup_receiver(books.engine, books.workspace_id, "email", {}, actor="cli:anna", now=books.clock(),
                       interval_minutes=1)  # fmt: skip


async def test_email_carries_csvs_and_a_stable_message_id(books: Books, smtp: Smtp) -> None:
    setup_receiver(books.engine, books.workspace_id, "email",
                   {"host": "127.0.0.1", "port": str(smtp.port), "sender": "bot@kert.hu", "to": "konyv@iroda.hu",
                    "starttls": "no"}, actor="cli:anna", now=books.clock(), auto_mode=True)  # fmt: skip
    invoice = books.invoice("E/2026/1")
    books.payment(invoice, "27000", key="tx1")
    assert await run(books) == (2, 2, 0, 0)
    first, second = smtp.mailbox.messages
    assert first["Subject"] == "Invoice E/2026/1 (Kert-Építő Kft.)"
    assert first["Message-ID"].startswith(f"<reconbot-w{books.workspace_id}-handoff-") and smtp.mailbox.recipients[
        0
    ] == ["konyv@iroda.hu"]
    names = [part.get_filename() for part in first.iter_attachments()]
    assert names == ["E-2026-1.csv", "E-2026-1-settlements.csv"]
    assert second["Subject"] == "Payment of invoice E/2026/1 (Kert-Építő Kft.)"
    csv_text = next(second.iter_attachments()).get_content()
    assert ",27000" in csv_text and "2026-03-05" in csv_text
    state = document_states(books.engine, books.workspace_id, [invoice])[invoice]
    assert state.state is DocumentState.SENT and "SMTP 250" in state.answer


async def test_folder_files_are_the_same_however_often_written(books: Books, tmp_path: Path, clock: FakeClock) -> None:
    root = tmp_path / "export"
    setup_receiver(books.engine, books.workspace_id, "folder", {"path": str(root)}, actor="cli:anna",
                   now=books.clock(), auto_mode=True)  # fmt: skip
    invoice = books.invoice("E-2026-1")
    books.payment(invoice, "27000", key="tx1")
    books.payment(invoice, "100000", key="tx2")
    assert await run(books) == (3, 3, 0, 0)
    daily = root / "settlements" / "settlements-2026-03-02.csv"
    stem = f"E-2026-1_{invoice}"
    before = (root / "invoices" / f"{stem}.json").read_text(), daily.read_text()
    assert len(before[1].splitlines()) == 3  # header and two settlements
    with session_scope(books.engine) as session:
        session.execute(update(HandoffItemRecord).values(state=ItemState.SENDING, claimed_at=clock.now))
    clock.advance(minutes=11)
    assert await run(books) == (0, 3, 0, 0)
    assert ((root / "invoices" / f"{stem}.json").read_text(), daily.read_text()) == before
    assert sorted(p.name for p in (root / "invoices").iterdir()) == [f"{stem}.csv", f"{stem}.json"]


async def test_an_archived_pdf_goes_with_its_invoice_and_the_handoff_is_a_logged_download(
    books: Books, smtp: Smtp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconbot.core.archive.storage import storage_from_settings
    from reconbot.core.services.archive.access import downloads
    from reconbot.core.services.archive.filing import archive_pdf
    from tests.fakes.pdf import pdf_with_text

    monkeypatch.setenv("RECONBOT_ARCHIVE_DIR", str(tmp_path / "archive"))
    setup_receiver(books.engine, books.workspace_id, "email",
                   {"host": "127.0.0.1", "port": str(smtp.port), "sender": "bot@kert.hu", "to": "konyv@iroda.hu",
                    "starttls": "no"}, actor="cli:anna", now=books.clock(), auto_mode=True)  # fmt: skip
    invoice = books.invoice("E/2026/2")
    pdf = pdf_with_text("E/2026/2 Kert-Építő Kft.")
    document = archive_pdf(books.engine, storage_from_settings(), books.workspace_id, invoice, pdf,
                           source="fetched", actor="billingo", now=books.clock()).document  # fmt: skip
    assert await run(books) == (1, 1, 0, 0)
    (mail,) = smtp.mailbox.messages
    attached = {part.get_filename(): part for part in mail.iter_attachments()}
    assert list(attached) == ["E-2026-2.pdf", "E-2026-2.csv", "E-2026-2-settlements.csv"]
    assert attached["E-2026-2.pdf"].get_content() == pdf
    assert [d.actor for d in downloads(books.engine, books.workspace_id, document.id)] == ["handoff"]


async def test_a_receiver_that_breaks_fails_its_item_not_the_run(books: Books, tmp_path: Path) -> None:
    setup_receiver(books.engine, books.workspace_id, "folder", {"path": str(tmp_path / "bad\x00folder")},
                   actor="cli:anna", now=books.clock(), auto_mode=True)  # fmt: skip
    books.invoice("E-2026-1")
    books.invoice("E-2026-2")
    assert await run(books) == (2, 0, 2, 0)  # both tried, both put back for a later attempt
    assert [i.state for i in items(books.engine)] == [ItemState.MARKED, ItemState.MARKED]
    assert all("ValueError" in i.last_error for i in items(books.engine))


async def test_auto_mode_does_not_pour_out_an_old_history_stored_later(books: Books, webhook: Webhook) -> None:
    connect(books, webhook, auto=True)
    books.invoice("E-2025-7", issued=date(2025, 11, 3))  # stored now, issued months before auto mode began
    books.invoice("E-2026-9", issued=date(2026, 2, 27))  # a few days late: still new
    assert await run(books) == (1, 1, 0, 0)
    assert [d.document["invoice"]["number"] for d in webhook.fake.requests] == ["E-2026-9"]


async def test_two_invoices_whose_numbers_make_one_file_name_get_two_files(books: Books, tmp_path: Path) -> None:
    root = tmp_path / "export"
    setup_receiver(books.engine, books.workspace_id, "folder", {"path": str(root)}, actor="cli:anna",
                   now=books.clock(), auto_mode=True)  # fmt: skip
    books.invoice("A/1")
    books.invoice("A-1")
    assert await run(books) == (2, 2, 0, 0)
    assert len([p for p in (root / "invoices").iterdir() if p.suffix == ".json"]) == 2


async def test_an_invoice_from_a_system_waits_a_while_for_its_pdf_then_goes_with_it(
    books: Books, webhook: Webhook, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconbot.core.archive.storage import storage_from_settings
    from reconbot.core.services.archive.filing import archive_pdf
    from tests.fakes.pdf import pdf_with_text

    monkeypatch.setenv("RECONBOT_ARCHIVE_DIR", str(tmp_path / "archive"))
    connect(books, webhook, auto=True)
    invoice = books.invoice("INV-2026-7", source="billingo")
    late = books.invoice("INV-2026-8", source="billingo")
    done = await send_due(books.engine, clock(), force=True, context=CONTEXT)
    assert (done.sent, done.waiting_for_pdf) == (0, 2) and webhook.fake.requests == []
    archive_pdf(books.engine, storage_from_settings(), books.workspace_id, invoice, pdf_with_text("INV-2026-7"),
                source="fetched", actor="billingo", now=clock())  # fmt: skip
    clock.advance(minutes=6)
    done = await send_due(books.engine, clock(), context=CONTEXT)
    assert (done.sent, done.waiting_for_pdf) == (1, 1)
    assert webhook.fake.requests[0].document["invoice"]["number"] == "INV-2026-7"
    clock.advance(hours=1)  # the other one's PDF never came: it goes without, not never
    done = await send_due(books.engine, clock(), context=CONTEXT)
    assert (done.sent, done.waiting_for_pdf) == (1, 0)
    states = document_states(books.engine, books.workspace_id, [invoice, late])
    assert {s.state for s in states.values()} == {DocumentState.SENT}
    assert [i.attempts for i in items(books.engine)] == [1, 1]  # waiting for the PDF was never an attempt
