"""In manual handoff mode a paid invoice's message offers to send it to the accountant; the press marks it once."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.bot.delivery import DeliveryWorker
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.persistence.tables import InvoiceRecord
from reconbot.core.roles import Role
from reconbot.core.services.handoff.marking import DocumentState, document_states
from reconbot.core.services.handoff.setup import setup_receiver
from reconbot.handlers import actions
from reconbot.handlers.context import Chat
from tests.fakes.clock import FakeClock
from tests.support.books import Books
from tests.support.chat import INVOICES, PAYMENTS, RecordingTransport, add_channels, slack_user


async def told(engine: Engine, workspace_id: int, clock: FakeClock) -> RecordingTransport:
    transport = RecordingTransport()
    await DeliveryWorker(engine, {(workspace_id, Platform.SLACK): transport}, clock=clock, pace_scale=0).run_once()
    return transport


async def test_a_paid_invoice_can_be_sent_to_the_accountant_from_its_message_in_manual_mode(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books
) -> None:
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
    setup_receiver(engine, workspace_id, "webhook", {"url": "https://books.example/hook", "secret": "s" * 24},
                   actor="test", now=clock(), auto_mode=False)  # fmt: skip
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    transport = await told(engine, workspace_id, clock)
    paid = next(m for _, _, m in transport.sent if ("Invoice", "E-2026-1") in m.fields)
    (button,) = [b for b in paid.buttons if "accountant" in b.label]
    assert button.label == "Send E-2026-1 to the accountant"
    unpaid = next(m for _, _, m in transport.sent if m.title.startswith("Unmatched"))
    assert not any("accountant" in b.label for b in unpaid.buttons)
    with Session(engine) as session:
        invoice_id = session.exec(select(InvoiceRecord.id).where(col(InvoiceRecord.number) == "E-2026-1")).one()
    assert invoice_id is not None

    def state() -> DocumentState:
        return document_states(engine, workspace_id, [invoice_id])[invoice_id].state

    refused = await actions.press(chat, slack_user(Role.ACCOUNTANT), button.action)  # may pair, may not invoice
    assert refused.toast and state() is DocumentState.NOT_SENT
    await actions.press(chat, slack_user(Role.INVOICING), button.action)
    assert state() is DocumentState.WAITING
    again = await actions.press(chat, slack_user(Role.OWNER), button.action)
    assert "Already done" in again.toast and state() is DocumentState.WAITING
