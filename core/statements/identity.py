"""Stable identities for transactions, so that re-imports never duplicate them.

A transaction is identified by the bank's own id when the bank gives one.
Otherwise by a content key: a hash of what the bank says about it plus its
occurrence number among identical rows of the same file, so that two genuine
identical payments on one day stay two, while importing the same or an
overlapping file again finds both already present.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from reconbot.core.domain import Transaction


def _content_digest(t: Transaction) -> str:
    parts = (
        t.account_iban,
        t.booking_date.isoformat(),
        format(t.amount.normalize(), "f"),
        t.currency,
        t.counterparty_iban,
        t.counterparty_name,
        t.reference,
        t.end_to_end_id,
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def content_keys(transactions: Iterable[Transaction]) -> list[str]:
    """Return one content key per transaction, in order; identical rows get ``#2``, ``#3`` … suffixes."""
    seen: Counter[str] = Counter()
    keys = []
    for t in transactions:
        digest = _content_digest(t)
        seen[digest] += 1
        n = seen[digest]
        keys.append(digest if n == 1 else f"{digest}#{n}")
    return keys


def dedupe_keys(transactions: Sequence[Transaction]) -> list[str]:
    """Return the key under which each transaction is stored once per bank account.

    ``bank:<id>`` when the bank gave an id; a repeat of that id within the file
    is another transaction (banks reuse ids, ERPNext #50213), keyed
    ``bank:<id>~<content key>``. Without an id, ``content:<content key>``.
    """
    content = content_keys(transactions)
    used: set[str] = set()
    keys = []
    for t, c in zip(transactions, content, strict=True):
        if not t.bank_id:
            keys.append(f"content:{c}")
            continue
        key = f"bank:{t.bank_id}"
        keys.append(key if key not in used else f"{key}~{c}")
        used.add(key)
    return keys


def with_ids(transactions: Sequence[Transaction]) -> list[Transaction]:
    """Return the transactions with every empty ``id`` replaced by a derived, stable one (``d-…``)."""
    if all(t.id for t in transactions):
        return list(transactions)
    content = content_keys(transactions)
    return [t if t.id else replace(t, id=f"d-{c}") for t, c in zip(transactions, content, strict=True)]
