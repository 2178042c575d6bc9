"""Bounded subset-sum: which of a payer's open invoices add up to a lump payment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from math import gcd

# Above this many distinct sums (after dividing by the common factor) the bitset would cost
# megabytes per item; the bounded dictionary search takes over.
_MAX_BITSET = 1 << 22


@dataclass(frozen=True, slots=True)
class SubsetSearch:
    """Subsets of item positions whose amounts sum to the target.

    ``solutions`` holds at most the requested number of subsets, smallest
    first. ``exhaustive`` is False when the search was bounded (too many items
    or partial sums), so more solutions may exist than were found.
    """

    solutions: tuple[tuple[int, ...], ...]
    exhaustive: bool

    @property
    def unique(self) -> tuple[int, ...] | None:
        """Return the only subset when exactly one exists and the search was complete."""
        if self.exhaustive and len(self.solutions) == 1:
            return self.solutions[0]
        return None


def subsets_summing_to(
    amounts: Sequence[int], target: int, *, limit: int = 3, max_items: int = 24, max_states: int = 5000
) -> SubsetSearch:
    """Return up to ``limit`` subsets of ``amounts`` (positive integers) that sum exactly to ``target``.

    At most ``max_items`` items are considered (the first ones given); with
    more, the result says it is not exhaustive. The search is a bitset of
    reachable sums per prefix of the items, walked back to list solutions.
    """
    items = [(i, a) for i, a in enumerate(amounts) if 0 < a <= target]
    exhaustive = len(items) <= max_items
    items = items[:max_items]
    if target <= 0 or not items or sum(a for _, a in items) < target:
        return SubsetSearch((), exhaustive)
    if len(items) <= 4:
        # A payer's few open invoices: trying all fifteen subsets is quicker than building bitsets.
        few = [
            tuple(i for i, _ in chosen)
            for size in range(1, len(items) + 1)
            for chosen in combinations(items, size)
            if sum(a for _, a in chosen) == target
        ]
        return SubsetSearch(tuple(few[:limit]), True)
    factor = gcd(target, *(a for _, a in items))
    if target // factor > _MAX_BITSET:
        return _bounded_search(items, target, limit, max_states, exhaustive)
    target //= factor
    values = [a // factor for _, a in items]
    window = (1 << (target + 1)) - 1
    reachable = [1]  # reachable[k]: bit s is set when some subset of the first k items sums to s
    for value in values:
        reachable.append((reachable[-1] | reachable[-1] << value) & window)
    if not reachable[-1] >> target & 1:
        return SubsetSearch((), exhaustive)
    found: list[tuple[int, ...]] = []
    # Walk back from the target: every branch taken is feasible, so each leaf is a solution and the
    # walk costs limit × items. An explicit stack, not a recursive closure, so no reference cycle
    # keeps the bitsets alive after the search.
    stack: list[tuple[int, int, tuple[int, ...]]] = [(len(items), target, ())]
    while stack and len(found) < limit:
        k, rest, chosen = stack.pop()
        if k == 0:
            found.append(tuple(sorted(chosen)))
            continue
        value = values[k - 1]
        if reachable[k - 1] >> rest & 1:
            stack.append((k - 1, rest, chosen))
        if rest >= value and reachable[k - 1] >> (rest - value) & 1:
            stack.append((k - 1, rest - value, (*chosen, items[k - 1][0])))
    return SubsetSearch(tuple(sorted(found, key=len)), exhaustive)


def _bounded_search(
    items: list[tuple[int, int]], target: int, limit: int, max_states: int, exhaustive: bool
) -> SubsetSearch:
    # Partial sums kept in a dictionary, each with up to `limit` ways to reach it.
    ways: dict[int, list[tuple[int, ...]]] = {0: [()]}
    for i, amount in items:
        additions = [(s + amount, [(*w, i) for w in ws]) for s, ws in ways.items() if s + amount <= target]
        for total, subsets in additions:
            known = ways.get(total)
            if known is None:
                if len(ways) >= max_states:
                    exhaustive = False
                    continue
                ways[total] = subsets[:limit]
            elif len(known) < limit:
                # Ways beyond the limit are not kept: what matters is that there are several.
                known.extend(subsets[: limit - len(known)])
    found = sorted(ways.get(target, []), key=len)
    return SubsetSearch(tuple(found[:limit]), exhaustive)
