"""Outbox events as chat messages: what each says and offers, from the neutral facts routing gathered.

``compose`` is given the event's facts (``reconbot.core.services.chat.routing.EventFacts``) and ``new_action``
(which stores a ``chat_action`` and returns its opaque id), so the composing itself stays free of storage
and platforms; ``unmatched_message`` words the "which invoice is it?" question, for new events and for a
pairing that was undone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from reconbot.core.services.chat.actions import NewAction
from reconbot.core.services.chat.questions import Question
from reconbot.core.services.chat.routing import EventFacts
from reconbot.core.services.events import EventKind
from reconbot.handlers.messages import Button, Message, Style
from reconbot.handlers.texts import money, text

_MATCH_TITLES = {EventKind.PAYMENT_MATCHED: "paid.title", EventKind.PARTIAL_PAYMENT: "partial.title",
                 EventKind.OVERPAYMENT: "over.title"}  # fmt: skip
# At most this many "Send … to the accountant" buttons under one payment.
HAND_OVER_BUTTONS = 2


def compose(facts: EventFacts, new_action: NewAction) -> Message | None:
    """Return the message telling the event (None for kinds chat does not show, or a question without facts)."""
    kind, payload, language = facts.kind, facts.payload, facts.language
    if kind in _MATCH_TITLES:
        return _with_handoff_buttons(_matched(kind, payload, language, new_action), facts, new_action)
    if kind in (EventKind.UNMATCHED_TRANSACTION, EventKind.POSSIBLE_DOUBLE_PAYMENT):
        if facts.question is None:
            return None
        double = kind == EventKind.POSSIBLE_DOUBLE_PAYMENT
        return unmatched_message(facts.question, language, new_action, double=double)
    builder = _BUILDERS.get(kind)
    return builder(payload, language, new_action) if builder else None


def compose_body(facts: EventFacts, new_action: NewAction) -> dict[str, Any] | None:
    """Return ``compose``'s message as the JSON body routing stores (the ``EventComposer`` of the delivery)."""
    message = compose(facts, new_action)
    return message.to_json() if message is not None else None


def _with_handoff_buttons(message: Message, facts: EventFacts, new_action: NewAction) -> Message:
    """In manual handoff mode, offer to send the paid invoices to the accountant (those not given yet)."""
    numbers = {int(a["invoice_id"]): a["invoice_number"] for a in facts.payload.get("allocations", [])}
    buttons = tuple(
        Button(text(facts.language, "button.hand_over", number=numbers[invoice_id]),
               action=new_action("send_again", {"invoice_id": invoice_id}))
        for invoice_id in facts.hand_over[:HAND_OVER_BUTTONS]
        if invoice_id in numbers
    )  # fmt: skip
    return replace(message, buttons=message.buttons + buttons) if buttons else message


def _amount(payload: dict[str, Any], language: str) -> str:
    tx = payload["transaction"]
    return money(abs(Decimal(tx["amount"])), tx["currency"], language)


def _matched(kind: str, payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    tx = payload["transaction"]
    payer = tx.get("counterparty_name") or "?"
    fields: list[tuple[str, str]] = []
    for allocation in payload.get("allocations", []):
        left = Decimal(allocation["open_after"])
        still = text(language, "fully_paid") if left == 0 else money(left, tx["currency"], language)
        fields.append((text(language, "field.invoice"), allocation["invoice_number"]))
        fields.append((text(language, "field.open"), still))
    if kind == EventKind.OVERPAYMENT and Decimal(payload.get("surplus", "0")):
        fields.append((text(language, "field.surplus"), money(Decimal(payload["surplus"]), tx["currency"], language)))
    undo = new_action("undo", {"transaction_id": tx["id"]})
    return Message(
        title=text(language, _MATCH_TITLES[kind], amount=_amount(payload, language), payer=payer),
        fields=tuple(fields),
        lines=(tx["reference"],) if tx.get("reference") else (),
        note=text(language, "matched.auto"),
        buttons=(Button(text(language, "button.undo"), action=undo),),
    )


def unmatched_message(question: Question, language: str, new_action: NewAction, *, double: bool = False) -> Message:
    """Return "which invoice is it?" for a waiting transaction: its candidates, Find invoice…, Not an invoice
    payment."""
    amount = money(abs(question.amount), question.currency, language)
    payer = question.counterparty or "?"
    if double:
        title = text(language, "double.title", amount=amount, payer=payer)
    else:
        key = "unmatched.title" if question.amount > 0 else "unmatched.out.title"
        title = text(language, key, amount=amount, payer=payer)
    buttons: list[Button] = []
    lines: list[str] = []
    for candidate in question.candidates:
        numbers = ", ".join(candidate.numbers)
        open_amount = money(candidate.open_amount, question.currency, language)
        lines.append(f"{numbers} · {candidate.partner_name} · {open_amount}")
        action = new_action("pair", {"transaction_id": question.transaction_id,
                                     "invoice_ids": list(candidate.invoice_ids),
                                     "expected_allocated": str(question.allocated)})  # fmt: skip
        buttons.append(Button(text(language, "button.pair", numbers=numbers)[:75], action=action, style=Style.PRIMARY))
    lines.insert(0, text(language, "candidates" if buttons else "no_candidates"))
    subject = {"transaction_id": question.transaction_id}
    buttons.append(Button(text(language, "button.find"), action=new_action("find", subject)))
    buttons.append(Button(text(language, "button.ignore"), action=new_action("ignore", subject)))
    fields = [(text(language, "field.date"), question.booking_date.isoformat())]
    if question.reference:
        fields.append((text(language, "field.reference"), question.reference))
    return Message(title=title, fields=tuple(fields), lines=tuple(lines), buttons=tuple(buttons))


def _consent_expiring(payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    renew = new_action("renew", {"connection_id": payload["connection_id"]})
    return Message(
        title=text(language, "consent_expiring.title", bank=payload["bank"], days=payload["days_left"]),
        lines=(text(language, "consent_expiring.line", date=payload["valid_until"][:10]),),
        buttons=(Button(text(language, "button.renew"), action=renew, style=Style.PRIMARY),),
    )


def _consent_expired(payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    renew = new_action("renew", {"connection_id": payload["connection_id"]})
    return Message(
        title=text(language, "consent_expired.title", bank=payload["bank"]),
        lines=(text(language, "consent_expired.line"),),
        buttons=(Button(text(language, "button.renew"), action=renew, style=Style.PRIMARY),),
    )


def _bank_connected(payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    return Message(title=text(language, "bank_connected.title", bank=payload["bank"], accounts=payload["accounts"]))


def _sync_failing(payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    return Message(
        title=text(language, "sync_failing.title", bank=payload.get("bank") or payload.get("iban", "")),
        fields=((text(language, "field.error"), payload["error"]),
                (text(language, "field.since"), payload["failing_since"][:16].replace("T", " "))),
    )  # fmt: skip


def _sync_recovered(payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    return Message(title=text(language, "sync_recovered.title", bank=payload.get("bank") or payload.get("iban", "")))


def _proforma_paid(payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    proforma = payload["proforma"]
    title = text(language, "proforma.title", number=proforma["number"])
    if payload.get("mode") == "auto":
        return Message(title=title, lines=(text(language, "proforma.auto"),))
    if not payload.get("can_issue", True):
        return Message(title=title, lines=(text(language, "proforma.elsewhere", source=proforma.get("source", "?")),))
    action = new_action("final", {"invoice_id": proforma["invoice_id"]})
    return Message(title=title, lines=(text(language, "proforma.manual"),),
                   buttons=(Button(text(language, "button.final"), action=action, style=Style.PRIMARY),))  # fmt: skip


def _final_issued(payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    amount = money(Decimal(payload["gross"]), payload["currency"], language)
    line = text(language, "final.line", proforma=payload["proforma_number"], amount=amount)
    return Message(title=text(language, "final.title", number=payload["number"]), lines=(line,))


def _sale_paid(payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    amount = money(Decimal(payload["total"]), payload["currency"], language)
    action = new_action("sale", {"sale_id": payload["sale_id"]})
    fields = ((text(language, "field.customer"), payload["customer"]),) if payload.get("customer") else ()
    return Message(title=text(language, "sale_paid.title", sale=payload["sale"], amount=amount), fields=fields,
                   buttons=(Button(text(language, "button.sale"), action=action, style=Style.PRIMARY),))  # fmt: skip


def _sale_invoiced(payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    return Message(title=text(language, "sale_invoiced.title", number=payload["number"], sale=payload["sale"]))


def _write_back_failed(payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    action = new_action("retry", {"operation_id": payload["operation_id"]})
    return Message(
        title=text(language, "write_back_failed.title", number=payload["invoice_number"], source=payload["source"]),
        fields=((text(language, "field.error"), payload["error"]),
                (text(language, "field.attempts"), str(payload["attempts"]))),
        buttons=(Button(text(language, "button.retry"), action=action, style=Style.PRIMARY),),
    )  # fmt: skip


def _handoff_failed(payload: dict[str, Any], language: str, new_action: NewAction) -> Message:
    action = new_action("send_again", {"item_id": payload["item_id"]})
    fields = [(text(language, "field.attempts"), str(payload["attempts"]))]
    # A payment's error may echo the payer's name or account, and this message also reaches channels without
    # bank data: only an invoice's error is shown (the Handoff page shows the rest to the bank roles).
    if payload.get("kind") != "settlement":
        fields.insert(0, (text(language, "field.error"), payload["error"]))
    return Message(
        title=text(language, "handoff_failed.title", number=payload["invoice_number"], receiver=payload["receiver"]),
        fields=tuple(fields),
        buttons=(Button(text(language, "button.send_again"), action=action, style=Style.PRIMARY),),
    )


_BUILDERS: dict[str, Callable[[dict[str, Any], str, NewAction], Message]] = {
    EventKind.CONSENT_EXPIRING: _consent_expiring,
    EventKind.CONSENT_EXPIRED: _consent_expired,
    EventKind.BANK_CONNECTED: _bank_connected,
    EventKind.SYNC_FAILING: _sync_failing,
    EventKind.SYNC_RECOVERED: _sync_recovered,
    EventKind.PROFORMA_PAID: _proforma_paid,
    EventKind.FINAL_INVOICE_ISSUED: _final_issued,
    EventKind.SALE_PAID: _sale_paid,
    EventKind.SALE_INVOICED: _sale_invoiced,
    EventKind.WRITE_BACK_FAILED: _write_back_failed,
    EventKind.HANDOFF_FAILED: _handoff_failed,
}


def trial_message(language: str, workspace: str, who: str) -> Message:
    """Return the message the panel's "Send a test message" sends: it names the workspace and who asked."""
    title = text(language, "test.title", workspace=workspace)
    return Message(title=title, lines=(text(language, "test.line", who=who),))
