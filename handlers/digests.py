"""One message telling many bank events at once (a first sync, a flood): counts, totals, the largest unmatched.

Routing (``reconbot.core.services.chat.routing.fold_digest``) decides when to fold; this words the digest.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from reconbot.core.services.chat.actions import NewAction
from reconbot.core.services.events import EventKind
from reconbot.handlers.messages import Button, Message
from reconbot.handlers.texts import money, text

# The digest lists this many of the largest unmatched transactions.
DIGEST_TOP = 5


def digest_message(events: Sequence[tuple[str, dict[str, Any]]], language: str, new_action: NewAction) -> Message:
    """Return one message telling the ``(kind, payload)`` bank events: counts, paired totals per currency, the
    largest unmatched."""
    counts: Counter[str] = Counter()
    paired: dict[str, Decimal] = defaultdict(Decimal)
    unmatched: list[dict[str, Any]] = []
    for kind, payload in events:
        tx = payload["transaction"]
        if kind in (EventKind.UNMATCHED_TRANSACTION, EventKind.POSSIBLE_DOUBLE_PAYMENT):
            counts["unmatched"] += 1
            unmatched.append(tx)
        elif kind in (EventKind.PAYMENT_MATCHED, EventKind.PARTIAL_PAYMENT, EventKind.OVERPAYMENT):
            counts["matched"] += 1
            paired[tx["currency"]] += abs(Decimal(tx["amount"]))
        else:
            counts["other"] += 1
    lines: list[str] = []
    if counts["matched"]:
        total = ", ".join(money(amount, currency, language) for currency, amount in sorted(paired.items()))
        lines.append(text(language, "digest.matched", count=counts["matched"], amount=total))
    if counts["unmatched"]:
        lines.append(text(language, "digest.unmatched", count=counts["unmatched"]))
        lines.append(text(language, "digest.top"))
        largest = sorted(unmatched, key=_size, reverse=True)[:DIGEST_TOP]
        lines.extend(_line(tx, language) for tx in largest)
    if counts["other"]:
        lines.append(text(language, "digest.other", count=counts["other"]))
    buttons = (Button(text(language, "button.show_all"), action=new_action("show_all", {})),) if unmatched else ()
    return Message(title=text(language, "digest.title", count=len(events)), lines=tuple(lines), buttons=buttons)


def digest_body(events: Sequence[tuple[str, dict[str, Any]]], language: str, new_action: NewAction) -> dict[str, Any]:
    """Return ``digest_message`` as the JSON body routing stores (the ``DigestComposer`` of the delivery)."""
    return digest_message(events, language, new_action).to_json()


def _size(tx: dict[str, Any]) -> Decimal:
    return abs(Decimal(tx["amount"]))


def _line(tx: dict[str, Any], language: str) -> str:
    amount = money(abs(Decimal(tx["amount"])), tx["currency"], language)
    parts = [amount, tx.get("counterparty_name") or "?", tx.get("reference") or ""]
    return " · ".join(p for p in parts if p)
