"""Merging one fetch of a bank feed into what is stored for the account (pure; no I/O).

A feed is fetched again and again over overlapping windows, and between two
fetches a transaction can move from pending to booked (usually with a new id and
sometimes a new date), or the bank can hand out a new id for the same booked
transaction. The merge decides, for every fetched transaction, whether it is one
already stored (maybe to update) or new, and which stored pending ones the bank
has dropped — so that each real transaction is stored exactly once.

Pairing goes from the strongest evidence to the weakest:

1. the same bank id;
2. the same content (date, amount, parties, text) — a booked transaction whose id changed;
3. the same money, parties and text within a few days — a pending one that got booked.

Equal candidates are paired one to one, so two genuine identical payments stay two.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from reconbot.core.domain import Transaction
from reconbot.core.parties import compact_iban

# How far a booking date may move when a pending transaction gets booked.
PENDING_DATE_DRIFT_DAYS = 5


@dataclass(frozen=True, slots=True)
class StoredFeedRow:
    """What the merge needs to know of a stored transaction of the account."""

    id: int
    bank_id: str
    pending: bool
    transaction: Transaction


@dataclass(slots=True)
class FeedMerge:
    """The outcome: rows to insert, stored rows to update (row id → the fetched version), stored pending
    rows to delete, and how many fetched transactions were already stored unchanged.

    An update of a row stored as booked may change only its ids (its money may already be allocated);
    one of a pending row takes every field.
    """

    inserts: list[tuple[Transaction, bool]] = field(default_factory=list)  # (transaction, pending)
    updates: list[tuple[int, Transaction, bool]] = field(default_factory=list)  # (row id, transaction, pending)
    deletes: list[int] = field(default_factory=list)
    unchanged: int = 0


def _money_and_parties(t: Transaction) -> str:
    parts = (
        format(t.amount.normalize(), "f"),
        t.currency,
        compact_iban(t.counterparty_iban),
        " ".join(t.counterparty_name.casefold().split()),
        " ".join(t.reference.casefold().split()),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _content(t: Transaction) -> str:
    return f"{t.booking_date.isoformat()}|{_money_and_parties(t)}"


def _same_money(a: Transaction, b: Transaction) -> bool:
    return a.amount == b.amount and a.currency == b.currency


def _same_as_stored(row: StoredFeedRow, fetched: Transaction, pending: bool) -> bool:
    stored = row.transaction
    return (
        row.pending == pending
        and row.bank_id == fetched.bank_id
        and _content(stored) == _content(fetched)
        and stored.value_date == fetched.value_date
        and stored.end_to_end_id == fetched.end_to_end_id
        and stored.structured_reference == fetched.structured_reference
    )


def merge_feed(
    stored: Sequence[StoredFeedRow],
    booked: Sequence[Transaction],
    pending: Sequence[Transaction],
    window: tuple[date, date],
) -> FeedMerge:
    """Return what to insert, update and delete so the stored rows reflect this fetch.

    ``stored`` are the account's rows booked in (or near) ``window``, the span
    the fetch covered. Booked rows are never deleted (a bank that omits one
    in a later answer has not un-booked it); stored pending rows in the window that
    the fetch no longer reports are deleted, since the bank dropped them.
    """
    merge = FeedMerge()
    unpaired = {row.id: row for row in stored}
    by_bank_id: dict[str, list[StoredFeedRow]] = defaultdict(list)
    for row in stored:
        if row.bank_id:
            by_bank_id[row.bank_id].append(row)
    fetched = [(t, False) for t in booked] + [(t, True) for t in pending]
    leftover: list[tuple[Transaction, bool]] = []

    def take(row: StoredFeedRow, t: Transaction, is_pending: bool) -> None:
        del unpaired[row.id]
        # A booked row reported as pending again keeps its booked version: banks do not un-book.
        if (not row.pending and is_pending) or _same_as_stored(row, t, is_pending):
            merge.unchanged += 1
        else:
            merge.updates.append((row.id, t, is_pending))

    for t, is_pending in fetched:  # 1. the same bank id
        # Banks reuse ids: a booked row with the same id but other money is another transaction.
        candidates = [
            row
            for row in by_bank_id.get(t.bank_id, ())
            if t.bank_id
            if row.id in unpaired and (row.pending or _same_money(row.transaction, t))
        ]
        if candidates:
            take(candidates[0], t, is_pending)
        else:
            leftover.append((t, is_pending))

    by_content: dict[str, list[StoredFeedRow]] = defaultdict(list)
    for row in stored:
        by_content[_content(row.transaction)].append(row)
    still: list[tuple[Transaction, bool]] = []
    for t, is_pending in leftover:  # 2. the same content under another id
        candidates = [row for row in by_content.get(_content(t), ()) if row.id in unpaired]
        if candidates:
            take(candidates[0], t, is_pending)
        else:
            still.append((t, is_pending))

    by_money: dict[str, list[StoredFeedRow]] = defaultdict(list)
    for row in stored:
        if row.pending:
            by_money[_money_and_parties(row.transaction)].append(row)
    for t, is_pending in still:  # 3. a pending one booked on another day
        candidates = [
            row
            for row in by_money.get(_money_and_parties(t), ())
            if row.id in unpaired
            and abs((row.transaction.booking_date - t.booking_date).days) <= PENDING_DATE_DRIFT_DAYS
        ]
        if candidates:
            candidates.sort(key=lambda row: abs((row.transaction.booking_date - t.booking_date).days))
            take(candidates[0], t, is_pending)
        else:
            merge.inserts.append((t, is_pending))

    start, end = window
    merge.deletes = sorted(
        row.id for row in unpaired.values() if row.pending and start <= row.transaction.booking_date <= end
    )
    return merge
