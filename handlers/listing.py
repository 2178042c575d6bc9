"""What the commands show: unmatched transactions, status, balances, whether an invoice is paid.

Each function asks ``reconbot.core.services.chat.listing`` for the facts (one read) and returns them as a
neutral ``Message`` in the workspace's language.
"""

from __future__ import annotations

from reconbot.core.services.chat import listing
from reconbot.core.services.chat.listing import InvoicePayment, TransactionLine
from reconbot.handlers.context import Chat
from reconbot.handlers.messages import Message
from reconbot.handlers.texts import money, text


def unmatched_list(chat: Chat, language: str, *, limit: int = 10) -> Message:
    """Return the transactions waiting for a person, largest first (``limit`` of them, and how many more)."""
    waiting = listing.waiting_transactions(chat.engine, chat.workspace_id, limit=limit)
    if not waiting.count:
        return Message(title=text(language, "unmatched.none"))
    lines = [_transaction_line(tx, language) for tx in waiting.largest]
    if waiting.count > limit:
        lines.append(text(language, "unmatched.more", count=waiting.count - limit))
    return Message(title=text(language, "unmatched.list_title", count=waiting.count), lines=tuple(lines))


def _transaction_line(tx: TransactionLine, language: str) -> str:
    amount = money(tx.amount, tx.currency, language)
    parts = [tx.booking_date.isoformat(), amount, tx.counterparty, tx.reference]
    return " · ".join(p for p in parts if p)[:300]


def status(chat: Chat, language: str, *, bank_data: bool) -> Message:
    """Return the last sync per account, consents ending soon, channel problems and (with ``bank_data``) the
    unmatched count."""
    facts = listing.status_facts(chat.engine, chat.workspace_id, chat.clock(), bank_data=bank_data)
    lines: list[str] = []
    never = text(language, "status.never")
    for account in facts.accounts:
        when = account.last_success.strftime("%Y-%m-%d %H:%M") if account.last_success else never
        lines.append(text(language, "status.account", account=account.account, when=when))
    if not facts.accounts:
        lines.append(text(language, "status.no_accounts"))
    for consent in facts.consents:
        lines.append(text(language, "status.consent", bank=consent.bank, date=consent.valid_until.isoformat(),
                          days=consent.days_left))  # fmt: skip
    if facts.unmatched is not None:
        lines.append(text(language, "status.unmatched", count=facts.unmatched))
    for trouble in facts.channel_problems:
        lines.append(text(language, "status.channel_problem", channel=trouble.channel, problem=trouble.problem[:200]))
    return Message(title=text(language, "status.title"), lines=tuple(lines))


def balances(chat: Chat, language: str) -> Message:
    """Return each account's latest balance as the bank reported it (ten at most)."""
    fields = tuple(
        (b.account, f"{money(b.amount, b.currency, language)} ({b.reference_date.isoformat()})")
        for b in listing.latest_balances(chat.engine, chat.workspace_id)
    )
    if not fields:
        return Message(title=text(language, "balance.title"), lines=(text(language, "balance.none"),))
    return Message(title=text(language, "balance.title"), fields=fields[:10])


def invoice_paid(chat: Chat, language: str, number: str, *, bank_data: bool) -> Message:
    """Return whether invoice ``number`` is paid; with ``bank_data`` also who paid it and when."""
    number = number.strip()
    invoice = listing.invoice_payment(chat.engine, chat.workspace_id, number, bank_data=bank_data)
    if invoice is None:
        return Message(title=text(language, "paid.unknown", number=number[:60]))
    lines = tuple(text(language, "paid.by", payer=p.payer or "?", date=p.booking_date.isoformat())
                  for p in invoice.payments)  # fmt: skip
    return Message(title=text(language, _paid_key(invoice), **_paid_values(invoice, language)), lines=lines)


def _paid_key(invoice: InvoicePayment) -> str:
    if invoice.paid == 0:
        return "paid.no"
    return "paid.yes" if invoice.paid >= invoice.gross else "paid.partly"


def _paid_values(invoice: InvoicePayment, language: str) -> dict[str, str]:
    return {
        "number": invoice.number,
        "partner": invoice.partner or "?",
        "paid": money(invoice.paid, invoice.currency, language),
        "gross": money(invoice.gross, invoice.currency, language),
        "due": invoice.due_date.isoformat() if invoice.due_date else "—",
    }
