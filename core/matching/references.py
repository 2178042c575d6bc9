"""Finding invoice and order numbers in what the payer wrote.

Every number is indexed under the segment keys people produce when they
copy it: any case, any separators or none, leading zeros dropped, prefix
words dropped. Matching works on whole segments, so it is boundary-aware by
construction: the segments of ``E-KERT-2025-12`` never equal those of
``E-KERT-2025-1``.
"""

from __future__ import annotations

import marshal
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from reconbot.core.matching.numbers import SEP, Strength, number_keys, segment_spans, segments
from reconbot.core.text import fold


class KeyKind(StrEnum):
    NUMBER = "number"
    ORDER = "order"


class RefHit(NamedTuple):
    """One place where the text names a number: the invoices carrying it and how well it was named."""

    invoices: tuple[int, ...]
    strength: Strength
    kind: KeyKind
    field: str  # "reference", "end_to_end_id" or "structured_reference"
    written: str  # the segments found, joined with "-", for explanations
    usable: bool = True  # False: the words name only invoices this money cannot pay


# What ``usable`` says of an invoice: this money can pay it, it differs only in currency, or it is
# of the other direction (an issued invoice for money going out, or a supplier's bill for money in).
USABLE, USABLE_ELSEWHERE, UNUSABLE = 2, 1, 0


def _any(invoice: int) -> int:
    return USABLE


class ReferenceIndex:
    """Invoice and order numbers of a set of invoices, searchable in free text.

    Build it once per run; ``find`` costs a few dictionary look-ups per word of text.
    """

    def __init__(self) -> None:
        # key -> packed entries (invoice << 4 | strength << 1 | is_order); an int when there is one.
        self._keys: dict[str, int | tuple[int, ...]] = {}
        # first segment -> bit mask of key lengths (in segments) starting with it
        self._starts: dict[str, int] = {}

    @classmethod
    def of_numbers(cls, numbers: Iterable[tuple[str, str]]) -> ReferenceIndex:
        """Return the index of invoices given as (number, order number) pairs, by position."""
        index = cls()
        for i, (number, order_number) in enumerate(numbers):
            index.add(i, number)
            if order_number:
                index.add(i, order_number, KeyKind.ORDER)
        return index

    def dumps(self) -> bytes:
        """Return the index as bytes; ``loads`` makes it again ten times faster than building it."""
        return marshal.dumps((self._keys, self._starts))

    @classmethod
    def loads(cls, data: bytes) -> ReferenceIndex:
        """Return the index that ``dumps`` wrote."""
        index = cls()
        index._keys, index._starts = marshal.loads(data)
        return index

    def add(self, invoice: int, number: str, kind: KeyKind = KeyKind.NUMBER) -> None:
        """Index ``number`` (an invoice or order number) for the invoice at position ``invoice``."""
        for key, strength in number_keys(number).items():
            packed = invoice << 4 | int(strength) << 1 | (kind is KeyKind.ORDER)
            old = self._keys.get(key)
            if old is None:
                self._keys[key] = packed
            elif isinstance(old, int):
                if old != packed:
                    self._keys[key] = (old, packed)
            elif packed not in old:
                self._keys[key] = (*old, packed)
            first = key.partition(SEP)[0]
            self._starts[first] = self._starts.get(first, 0) | 1 << (key.count(SEP) + 1)

    def find(self, fields: Iterable[tuple[str, str]], usable: Callable[[int], int] = _any) -> list[RefHit]:
        """Return the numbers named in ``fields`` (pairs of field name and text).

        ``usable`` tells which invoices the money could pay (USABLE, USABLE_ELSEWHERE or UNUSABLE). Where words can be
        read as several numbers, a reading naming a usable invoice beats one
        that does not, and a longer reading beats one inside it
        (``E-KERT-2025-12`` over ``KERT-2025-12``), as the writer meant it.
        A number the bank split over two lines is read with the lines glued.
        """
        hits: list[RefHit] = []
        for field, text in fields:
            if not text:
                continue
            folded = fold(text)
            if "\n" in folded:
                flat = folded.replace("\n", " ")
                found = self._positioned(self._scan(flat), flat)
                found += self._across_lines(folded)
            else:
                found = self._scan(folded)  # positions in segments are as good as in characters here
            if len(found) == 1:  # nothing to weigh one reading against
                start, end, entry, written = found[0]
                ok, foreign = _unpack(entry, field, written, usable)
                hits += ok or foreign
                continue
            readings = [(start, end, *_unpack(entry, field, written, usable)) for start, end, entry, written in found]
            good = [(start, end) for start, end, hits_ok, _ in readings if hits_ok]
            for start, end, hits_ok, hits_foreign in readings:
                if hits_ok:
                    if not any(s <= start and end <= e and e - s > end - start for s, e in good):
                        hits += hits_ok
                elif not any(s < end and start < e for s, e in good) and not any(
                    s <= start and end <= e and e - s > end - start for s, e, _, _ in readings
                ):
                    hits += hits_foreign
        return hits

    def _across_lines(self, folded: str) -> list[_Found]:
        """Return matches in the text glued at its line breaks that cross a break, in unglued positions."""
        breaks = [i for i, ch in enumerate(folded) if ch == "\n"]
        glued_breaks = [b - k for k, b in enumerate(breaks)]  # where each break falls in the glued text
        glued = folded.replace("\n", "")
        found = []
        for start, end, entry, written in self._positioned(self._scan(glued), glued):
            first = bisect_right(glued_breaks, start)  # breaks before the match
            crossed = bisect_left(glued_breaks, end) - first
            if crossed:
                found.append((start + first, end + first + crossed, entry, written))
        return found

    @staticmethod
    def _positioned(found: list[_Found], folded: str) -> list[_Found]:
        """Return ``found`` with segment positions turned into character positions in ``folded``."""
        if not found:
            return found
        starts, ends = segment_spans(folded)
        return [(starts[start], ends[end - 1], entry, written) for start, end, entry, written in found]

    def _scan(self, folded: str) -> list[_Found]:
        """Return (first segment, end segment, entry, written) for every key in the text."""
        segs = segments(folded)
        found: list[_Found] = []
        n = len(segs)
        for i, seg in enumerate(segs):
            lengths = self._starts.get(seg)
            if not lengths:
                continue
            length = 1
            while lengths >> length and i + length <= n:
                if lengths >> length & 1:
                    entry = self._keys.get(SEP.join(segs[i : i + length]))
                    if entry is not None:
                        found.append((i, i + length, entry, "-".join(segs[i : i + length])))
                length += 1
        return found


_Found = tuple[int, int, int | tuple[int, ...], str]


def _unpack(
    entry: int | tuple[int, ...], field: str, written: str, usable: Callable[[int], int]
) -> tuple[list[RefHit], list[RefHit]]:
    """Return the hits of one key: those naming usable invoices, and (only when there are none) the others.

    The strongest reading of a key decides; weaker readings of the same words are other invoices'
    prefix-dropped variants and lose to an invoice whose full number the text reproduces, even
    when that invoice is in another currency. Invoices of the other direction (a supplier's bill
    for money coming in) are what payers cannot know of, so they only count when nothing else does.
    """
    if isinstance(entry, int):  # one invoice carries this key: the usual case, kept quick
        use = usable(entry >> 4)
        kind = KeyKind.ORDER if entry & 1 else KeyKind.NUMBER
        hit = RefHit((entry >> 4,), Strength(entry >> 1 & 7), kind, field, written, use == USABLE)
        return ([hit], []) if use == USABLE else ([], [hit])
    readings = [(packed >> 1 & 7, usable(packed >> 4), packed) for packed in entry]
    relevant = [r for r in readings if r[1] >= USABLE_ELSEWHERE] or readings
    best = max(strength for strength, _, _ in relevant)
    ok: dict[tuple[int, bool], list[int]] = {}
    foreign: dict[tuple[int, bool], list[int]] = {}
    for strength, use, packed in relevant:
        if strength == best:
            (ok if use == USABLE else foreign).setdefault((best, bool(packed & 1)), []).append(packed >> 4)
    return _hits(ok, field, written, True), [] if ok else _hits(foreign, field, written, False)


def _hits(groups: dict[tuple[int, bool], list[int]], field: str, written: str, usable: bool) -> list[RefHit]:
    return [
        RefHit(
            tuple(invoices), Strength(strength), KeyKind.ORDER if is_order else KeyKind.NUMBER, field, written, usable
        )
        for (strength, is_order), invoices in groups.items()
    ]


_SPLIT_PAYMENT = re.compile(r"/VAT/([^/]*)/IDC/([^/]*)/INV/(.*?)(?:/TXT/(.*))?$", re.S)
_CREDITOR_REF = re.compile(r"RF\d\d([A-Z0-9]+)")


@dataclass(frozen=True, slots=True)
class SplitPayment:
    """The fields of a Polish split payment (mechanizm podzielonej płatności) title."""

    vat: str
    tax_id: str
    invoice: str
    text: str


def parse_split_payment(reference: str) -> SplitPayment | None:
    """Return the parsed ``/VAT/…/IDC/…/INV/…/TXT/…`` title, or None if ``reference`` is not one."""
    m = _SPLIT_PAYMENT.search(reference.replace("\n", "").strip())
    if not m:
        return None
    return SplitPayment(m[1].strip(), m[2].strip(), m[3].strip(), (m[4] or "").strip())


def reference_fields(reference: str, end_to_end_id: str, structured_reference: str) -> list[tuple[str, str]]:
    """Return the (field, text) pairs of a transaction worth searching for numbers."""
    fields = [("reference", reference), ("structured_reference", structured_reference)]
    if end_to_end_id != "NOTPROVIDED":  # SEPA's placeholder when the payer gave none
        fields.append(("end_to_end_id", end_to_end_id))
    # An ISO 11649 creditor reference (RF + check digits) wraps the number the creditor chose.
    m = _CREDITOR_REF.fullmatch(fold(structured_reference).replace(" ", "")) if structured_reference else None
    if m:
        fields.append(("structured_reference", m[1]))
    return fields
