"""A document that could not be handed over is told in chat once, and "Send again" puts it back in the queue —
for the roles that do invoicing only."""

from __future__ import annotations

from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.roles import Role
from reconbot.core.services.handoff.marking import DocumentState, document_states
from reconbot.core.services.handoff.sending import MAX_ATTEMPTS
from reconbot.core.services.people.members import add_member
from reconbot.handlers import actions
from reconbot.handlers.context import Chat, ChatUser
from tests.fakes.clock import FakeClock
from tests.support.chat import RecordingTransport, add_channels
from tests.support.handoff import Books, Webhook, connect, run


async def test_a_failed_handoff_is_told_once_and_send_again_is_for_invoicing_roles(
    handoff_books: Books, webhook: Webhook, clock: FakeClock
) -> None:
    from reconbot.bot.delivery import DeliveryWorker

    engine, workspace_id = handoff_books.engine, handoff_books.workspace_id
    for name, role, user in (("Olga", Role.OPERATOR, "U0OLGA"), ("Ivett", Role.INVOICING, "U0IVETT")):
        add_member(engine, workspace_id, name, role, actor="test", slack_user=user)
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", False))  # no bank data: the message is not bank data
    connect(handoff_books, webhook, auto=True)
    invoice = handoff_books.invoice("E-2026-1")
    webhook.fake.always_fail = True
    for _ in range(MAX_ATTEMPTS):
        await run(handoff_books)
        clock.advance(hours=5)
    transport = RecordingTransport()
    worker = DeliveryWorker(engine, {(workspace_id, Platform.SLACK): transport}, clock=clock, pace_scale=0)
    await worker.run_once()
    await worker.run_once()
    told = [m for _, _, m in transport.sent if "accountant" in m.title]
    assert len(told) == 1 and "E-2026-1" in told[0].title, [m.title for _, _, m in transport.sent]
    (button,) = told[0].buttons
    assert button.label == "Send again"

    chat = Chat(engine, workspace_id, clock=clock)
    refused = await actions.press(chat, ChatUser(Platform.SLACK, "U0OLGA", "Olga"), button.action)
    assert document_states(engine, workspace_id, [invoice])[invoice].state is DocumentState.FAILED
    assert refused.toast is not None and "operator" in refused.toast, refused
    await actions.press(chat, ChatUser(Platform.SLACK, "U0IVETT", "Ivett"), button.action)
    assert document_states(engine, workspace_id, [invoice])[invoice].state is DocumentState.WAITING
    webhook.fake.always_fail = False
    assert await run(handoff_books) == (0, 1, 0, 0)
    assert document_states(engine, workspace_id, [invoice])[invoice].state is DocumentState.SENT


def test_a_failed_payment_is_told_without_its_error_which_may_name_the_payer() -> None:
    from reconbot.handlers.notifications import _BUILDERS

    error = "HTTP 422: payer KOVACS ANNA HU42117730161111101800000000"
    payload = {"item_id": 7, "kind": "settlement", "receiver": "webhook", "invoice_id": 1, "invoice_number": "E-1",
               "allocation_id": 3, "error": error, "attempts": 6}  # fmt: skip
    message = _BUILDERS["handoff_failed"](payload, "en", lambda kind, subject: f"{kind}:{subject}")
    assert "KOVACS" not in repr(message) and message.fields == (("Attempts", "6"),)
    invoice = _BUILDERS["handoff_failed"]({**payload, "kind": "invoice"}, "en", lambda kind, subject: "x")
    assert ("Error", payload["error"]) in invoice.fields
