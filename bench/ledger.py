"""The open amounts a correct engine sees at each point of the statement, and the checks built on them.

Only automatic allocations change what is open (suggestions are not booked),
so the ledger is updated only by unambiguous scenarios, in booking order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal

from bench.model import ZERO, Inv, Partner

GROUP_CAP = 16  # payers with more open invoices (of one currency and flow) are not used for amount-based cases

GroupKey = tuple[int, str, int]  # (name cluster, currency, flow)


def count_subsets(amounts: Iterable[Decimal], target: Decimal, cap: int = 2) -> int:
    """Return how many subsets of ``amounts`` add up to ``target`` (positive), counting at most ``cap``.

    Exhaustive, with sums above the target pruned; equal amounts are distinct items.
    """
    goal = int(target.scaleb(2))  # in cents: integer sums are exact and much faster than Decimal ones
    counts: dict[int, int] = {0: 1}
    for amount in amounts:
        a = int(amount.scaleb(2))
        if a <= 0 or a > goal:
            continue
        for s, c in list(counts.items()):
            t = s + a
            if t <= goal:
                counts[t] = min(cap, counts.get(t, 0) + c)
        if counts.get(goal, 0) >= cap:
            break
    return counts.get(goal, 0)


class Pool:
    """Candidate invoices: those issued by the current day (``ready``) and the rest by issue date."""

    __slots__ = ("future", "pos", "ready")

    def __init__(self, items: list[int]) -> None:
        self.ready: list[int] = []
        self.future = items  # sorted by issue date; ``pos`` marks how far they moved to ``ready``
        self.pos = 0


class Ledger:
    """Invoices with their current open amounts, indexed for the scenarios."""

    def __init__(self, invoices: list[Inv], partners: list[Partner]) -> None:
        self.inv = invoices
        self.partners = partners
        self.groups: dict[GroupKey, set[int]] = {}
        self.amounts: dict[tuple[str, int, Decimal], int] = {}
        self.pools: dict[str, Pool] = {}
        self.locked: set[int] = set()  # clusters reserved for a pending follow-up transaction
        for i in invoices:
            if i.open > ZERO:
                self.groups.setdefault((i.cluster, i.currency, i.flow), set()).add(i.idx)
                key = (i.currency, i.flow, i.open)
                self.amounts[key] = self.amounts.get(key, 0) + 1

    def add_pool(self, name: str, items: list[int]) -> None:
        """Create pool ``name`` from invoice indices in issue-date order."""
        self.pools[name] = Pool(items)

    def pick(
        self,
        rng: random.Random,
        pool: str,
        day: date,
        need_open: bool = True,
        pred: Callable[[Inv], bool] | None = None,
        tries: int = 24,
    ) -> Inv | None:
        """Return a random usable invoice of ``pool`` issued by ``day``, or None.

        Usable: not retired, its cluster not locked, open when ``need_open``, and
        ``pred`` holds. Invoices that can never be usable again leave the pool.
        """
        p = self.pools[pool]
        inv = self.inv
        future, pos, ready = p.future, p.pos, p.ready
        while pos < len(future) and inv[future[pos]].issue <= day:
            ready.append(future[pos])
            pos += 1
        p.pos = pos
        for _ in range(tries):
            if not ready:
                return None
            k = int(rng.random() * len(ready))
            i = inv[ready[k]]
            if i.retired or (need_open and i.open <= ZERO):
                ready[k] = ready[-1]
                ready.pop()
                continue
            if i.cluster in self.locked or (pred is not None and not pred(i)):
                continue
            return i
        return None

    def group(self, inv: Inv) -> list[Inv]:
        """Return the open invoices of ``inv``'s payer cluster in its currency and flow, by index."""
        return [self.inv[k] for k in sorted(self.groups.get((inv.cluster, inv.currency, inv.flow), ()))]

    def own_open(self, inv: Inv) -> list[Inv]:
        """Return the open invoices of ``inv``'s own partner (same currency and flow), by index."""
        return [i for i in self.group(inv) if i.partner == inv.partner]

    def fits_exactly(self, group: Sequence[Inv], amount: Decimal, allowed: int = 0) -> bool:
        """Return True when exactly ``allowed`` subsets of ``group``'s open amounts add up to ``amount``."""
        return count_subsets((i.open for i in group), amount, cap=allowed + 1) == allowed

    def count_amount(self, currency: str, flow: int, amount: Decimal) -> int:
        """Return how many invoices anywhere have exactly ``amount`` open (same currency and flow)."""
        return self.amounts.get((currency, flow, amount), 0)

    def apply(self, inv: Inv, amount: Decimal) -> None:
        """Book an automatic allocation of ``amount`` (positive) to ``inv``."""
        if not ZERO < amount <= inv.open:
            raise ValueError(f"cannot allocate {amount} to {inv.number} with {inv.open} open")
        key = (inv.currency, inv.flow, inv.open)
        self.amounts[key] -= 1
        inv.open -= amount
        if inv.open > ZERO:
            key = (inv.currency, inv.flow, inv.open)
            self.amounts[key] = self.amounts.get(key, 0) + 1
        else:
            self.groups[(inv.cluster, inv.currency, inv.flow)].discard(inv.idx)

    def small_group(self, inv: Inv) -> list[Inv] | None:
        """Return ``group(inv)`` when it is small enough for exhaustive subset checks, else None."""
        if len(self.groups.get((inv.cluster, inv.currency, inv.flow), ())) > GROUP_CAP:
            return None
        return self.group(inv)
