"""Which invoices and order numbers a piece of transfer text mentions, by the issue's rules.

The generator uses this as its referee: a reference is accepted only when it
mentions exactly the intended invoices, and noise text only when it mentions
none. It is deliberately *more* liberal than the rules (it also drops the
``FA`` prefix and tries both readings of a line break), so that anything a
rule-following engine could read as a reference is caught here first.

Matching follows the rules: case and accents ignored; separators ``-``, ``/``,
``.``, space or none; leading zeros ignored; boundaries respected and the
longest match wins (``E-KERT-2025-120`` does not mention ``E-KERT-2025-12``,
and ``KOR/2025/05/0003`` does not mention ``FA/2025/05/0003``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bench.names import fold

PREFIX_WORDS = frozenset({"fv", "fa"})
MAX_RUNS = 3  # longest window of alphanumeric runs tried for numbers written without separators

_LD = re.compile(r"[a-z]+|[0-9]+")  # letters and digits as separate tokens
_RUN = re.compile(r"[a-z0-9]+")
_DIGIT = re.compile(r"[0-9]")


def number_keys(number: str) -> tuple[str, str, str]:
    """Return (group key, compact key, compact key without prefix word) of an invoice number.

    ``FV 12/05/2025`` → (``12|5|2025``, ``fv12052025``, ``12052025``).
    """
    folded = number.lower() if number.isascii() else fold(number)
    toks = _LD.findall(folded)
    while len(toks) > 2 and toks[0] in PREFIX_WORDS:
        toks = toks[1:]
    group = "|".join([t.lstrip("0") or "0" if t[0] == "0" else t for t in toks])
    runs = _RUN.findall(folded)
    full = "".join(runs)
    bare = full
    for word in PREFIX_WORDS:
        if full.startswith(word) and len(runs) > 1 and runs[0].startswith(word):
            bare = full[len(word) :]
            break
    return group, full, bare


@dataclass(slots=True)
class Mentions:
    """Invoice indices and order-number owners found in a text."""

    invoices: set[int] = field(default_factory=set)
    orders: set[int] = field(default_factory=set)

    def update(self, other: Mentions) -> None:
        """Add ``other``'s mentions to these."""
        self.invoices |= other.invoices
        self.orders |= other.orders


def _add(table: dict[str, int | tuple[int, ...]], key: str, idx: int) -> None:
    old = table.get(key)
    if old is None:
        table[key] = idx
    elif isinstance(old, int):
        if old != idx:
            table[key] = (old, idx)
    elif idx not in old:
        table[key] = (*old, idx)


def _ids(hit: int | tuple[int, ...]) -> tuple[int, ...]:
    return (hit,) if isinstance(hit, int) else hit


class RefIndex:
    """Every invoice number and order number of the data set, ready to be found in text."""

    def __init__(self) -> None:
        self.groups: dict[str, int | tuple[int, ...]] = {}
        self.compact: dict[str, int | tuple[int, ...]] = {}  # invoices: ids; orders: -1 - id
        self.prefixes: set[str] = set()  # proper prefixes of group keys, to stop scanning early

    def add_invoice(self, idx: int, number: str) -> None:
        """Index invoice ``idx`` under its number."""
        group, full, bare = number_keys(number)
        _add(self.groups, group, idx)
        cut = group.rfind("|")
        while cut > 0:
            self.prefixes.add(group[:cut])
            cut = group.rfind("|", 0, cut)
        _add(self.compact, full, idx)
        if bare != full:
            _add(self.compact, bare, idx)

    def add_order(self, idx: int, order: str) -> None:
        """Index invoice ``idx`` under its order (webshop or booking) number."""
        _add(self.compact, "".join(_RUN.findall(fold(order))), -1 - idx)

    def scan(self, *texts: str) -> Mentions:
        """Return what ``texts`` mention.

        A line break is read three ways: as nothing (the bank cut a number), as a
        space, and as a hard boundary (each line alone), so that neither line
        may name another invoice on its own.
        """
        found = Mentions()
        for text in texts:
            if not text:
                continue
            if "\n" in text:
                found.update(self._scan_one(text.replace("\n", "")))
                found.update(self._scan_one(text.replace("\n", " ")))
                for line in text.split("\n"):
                    found.update(self._scan_one(line))
            else:
                found.update(self._scan_one(text))
        return found

    def _scan_one(self, text: str) -> Mentions:
        folded = fold(text)
        if _DIGIT.search(folded) is None:
            return Mentions()  # every invoice and order number contains a digit
        # Matches as (kind, first, last) token positions: kind 0 = group key over letter/digit
        # tokens, 1 = compact key (invoice or order number) over alphanumeric runs.
        matches: list[tuple[int, int, int, tuple[int, ...]]] = []
        toks = [t.lstrip("0") or "0" if t[0] == "0" else t for t in _LD.findall(folded)]
        groups, prefixes, n = self.groups, self.prefixes, len(toks)
        for i in range(n):
            key = toks[i]
            j = i + 1
            while j < n and key in prefixes:
                key = key + "|" + toks[j]
                hit = groups.get(key)
                if hit is not None:
                    matches.append((0, i, j, _ids(hit)))
                j += 1
        compact = self.compact
        runs = _RUN.findall(folded)
        n = len(runs)
        for i in range(n):
            key, digit = "", False
            for j in range(i, min(n, i + MAX_RUNS)):
                run = runs[j]
                key += run
                digit = digit or not run.isalpha()
                if digit:  # every compact key contains a digit
                    hit = compact.get(key)
                    if hit is not None:
                        matches.append((1, i, j, _ids(hit)))
        found = Mentions()
        if len(matches) > 1 and any(m[3] != matches[0][3] for m in matches):
            matches = _longest(folded, matches)
        for _, _, _, ids in matches:
            for k in ids:
                if k >= 0:
                    found.invoices.add(k)
                else:
                    found.orders.add(-1 - k)
        return found


def _longest(
    folded: str, matches: list[tuple[int, int, int, tuple[int, ...]]]
) -> list[tuple[int, int, int, tuple[int, ...]]]:
    """Return ``matches`` without those lying strictly inside another one (the longest match wins)."""
    tok_spans = [m.span() for m in _LD.finditer(folded)]
    run_spans = [m.span() for m in _RUN.finditer(folded)]
    spans = []
    for kind, i, j, _ in matches:
        table = tok_spans if kind == 0 else run_spans
        spans.append((table[i][0], table[j][1]))
    return [
        m
        for m, (a, b) in zip(matches, spans, strict=True)
        if not any(a2 <= a and b <= b2 and (a2, b2) != (a, b) for a2, b2 in spans)
    ]
