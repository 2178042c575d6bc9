"""The ways one invoice or order number may be written, as index keys.

A number is split into atoms (runs of letters, runs of digits). People drop
separators between two atoms of one kind, leading zeros and letter prefixes;
each such writing is one key, the segments joined with ``|``. Computing keys
for 200,000 invoices must be quick, so the plan for a number's shape (its
letters, and where its digits and zeros are) is computed once and filled in
for every number of that shape.
"""

from __future__ import annotations

import re
from enum import IntEnum

from reconbot.core.text import fold

SEP = "|"  # joins segments into one key; never part of a folded segment


class Strength(IntEnum):
    """How much of a number the text reproduced; higher is stronger evidence."""

    DIGITS = 1  # digits that may be something else: a date ("12/05/2025"), a short bare number
    PARTIAL = 2  # the number without (some of) its letter prefix, or a bare run of digits
    NUMERIC = 3  # a number of digits alone, written whole ("2025-000123"): no prefix was dropped
    FULL = 4  # every segment of a number with letters


_ATOM = re.compile(r"[A-Z]+|[0-9]+")
# Five or more letter/digit runs glued together ("4BA1E0F4C247E30C") are a machine id, not a number
# someone wrote: kept whole, so their pieces never pass for short invoice numbers.
_MACHINE_ID = re.compile(r"(?<![A-Z0-9])(?:[A-Z]+[0-9]+[A-Z]+[0-9]+[A-Z]|[0-9]+[A-Z]+[0-9]+[A-Z]+[0-9])[A-Z0-9]*")
# In text, a digit run's leading zeros are simply not part of the segment ("0012" reads "12").
_SEGMENT = re.compile(_MACHINE_ID.pattern + r"|[A-Z]+|[1-9][0-9]*|0(?![0-9])")
_DIGIT_RUN = re.compile(r"[0-9]+")
_YEAR_ATOM = re.compile(r"(?<![0-9])0*(?:19|20)[0-9]{2}(?![0-9])")  # a year once leading zeros go
_ZEROS_AND_ONES = str.maketrans("23456789", "11111111")


def segments(folded: str) -> list[str]:
    """Return the runs of letters and of digits in folded text, leading zeros of digit runs dropped.

    Separators vanish and a letter/digit change always splits (``"FV12"`` → ``FV``, ``12``),
    so ``FV 12/05/2025``, ``fv-12.5.2025`` and ``FV12 05 2025`` give the same segments.
    """
    return _SEGMENT.findall(folded)


def segment_spans(folded: str) -> tuple[list[int], list[int]]:
    """Return the character positions where each segment of folded text starts and ends."""
    starts: list[int] = []
    ends: list[int] = []
    for m in _SEGMENT.finditer(folded):
        starts.append(m.start())
        ends.append(m.end())
    return starts, ends


# -- the plan for one shape -----------------------------------------------------------------------


class _Segment:
    """One segment of a key: atoms glued together, described by what the key rules look at."""

    __slots__ = ("digits", "length", "template", "year")

    def __init__(self, atoms: list[str], group: list[int], ordinal: dict[int, int], count: int) -> None:
        first = atoms[group[0]]
        self.digits = first[0].isdigit()
        if self.digits:
            # {n}: the n-th digit run without leading zeros; {count + n}: as written.
            self.template = f"{{{ordinal[group[0]]}}}" + "".join(f"{{{count + ordinal[j]}}}" for j in group[1:])
            self.length = len(first.lstrip("0") or "0") + sum(len(atoms[j]) for j in group[1:])
            self.year = len(group) == 1 and _is_year(first.lstrip("0"))
        else:
            self.template = "".join(atoms[j] for j in group)
            self.length = len(self.template)
            self.year = False


def _plan(atoms: list[str]) -> tuple[tuple[str, Strength, bool], ...]:
    """Return (template, strength, date check) for numbers shaped like ``atoms``.

    A key made of digits alone is only weak evidence when it reads as a date;
    whether it does depends on the digits, so such keys carry a date check.
    """
    ordinal: dict[int, int] = {}
    for i, atom in enumerate(atoms):
        if atom[0].isdigit():
            ordinal[i] = len(ordinal)
    joints = [i for i in range(1, len(atoms)) if atoms[i][0].isdigit() == atoms[i - 1][0].isdigit()]
    # A run of zeros glued to the next run ("00-12" → "0012" → "12") loses more zeros than a
    # template can express; such rare numbers are not indexed without their separators.
    joints = [i for i in joints if atoms[i - 1].strip("0")]
    groupings: list[tuple[list[list[int]], Strength, bool]] = []
    full = [[i] for i in range(len(atoms))]
    groupings.append((full, Strength.FULL, True))
    if joints:
        # Written without separators: "EKERT202512", "FV12052025". (Half-separated writings such as
        # "EKERT-2025-12" are rare enough not to double the index for.)
        grouped: list[list[int]] = [[0]]
        for i in range(1, len(atoms)):
            if i in joints:
                grouped[-1].append(i)
            else:
                grouped.append([i])
        groupings.append((grouped, Strength.FULL, True))
    i = 0
    while i < len(atoms) - 1 and not atoms[i][0].isdigit():
        i += 1
        rest = full[i:]
        groupings.append((rest, Strength.PARTIAL, False))
    plan: dict[str, tuple[Strength, bool]] = {}
    for grouping, strength, whole in groupings:
        segs = [_Segment(atoms, group, ordinal, len(ordinal)) for group in grouping]
        kept = _strength(segs, strength, whole)
        if kept is not None:
            template = SEP.join(s.template for s in segs)
            date_check = all(s.digits for s in segs) and kept is not Strength.DIGITS
            if template not in plan or plan[template][0] < kept:
                plan[template] = (kept, date_check)
    return tuple((template, strength, check) for template, (strength, check) in plan.items())


def _strength(segs: list[_Segment], strength: Strength, whole: bool) -> Strength | None:
    digits = sum(s.length for s in segs if s.digits)
    chars = sum(s.length for s in segs)
    if not digits or chars < 3:
        return None
    if not whole and (digits < 2 or chars < 5):
        return None  # what remains of "RZ-TAA4BA" or "BK-TMU35F" without its prefix is too common
    if not all(s.digits for s in segs):
        return strength
    # Digits alone may be a contract, customer or phone number as well: never full evidence.
    if len(segs) == 1:
        # A bare number: "123" is anything, "10234" a short order id, "1085958" a webshop's.
        if digits < 4:
            return None
        return Strength.DIGITS if digits < 6 else Strength.PARTIAL
    if not whole and len(segs) == 2 and sum(s.length for s in segs if not s.year) < 3:
        return None  # "2025-12" of "E-KERT-2025-12" reads as a year and a month in any text
    return Strength.NUMERIC if whole else Strength.PARTIAL


def _is_year(part: str) -> bool:
    return len(part) == 4 and part[:2] in ("19", "20")


def _date_like(key: str) -> bool:
    """Return True when a digits-only key reads as a date or a month: ``12|5|2025``, ``2025|5``."""
    parts = key.split(SEP)
    if len(parts) == 1:  # glued: 20250512, 12052025, 202505, 052025
        p = parts[0]
        if len(p) == 6:
            parts = [p[:4], p[4:]] if _is_year(p[:4]) else [p[:2], p[2:]]
        else:
            return len(p) == 8 and (_ymd(p[:4], p[4:6], p[6:]) or _ymd(p[4:], p[2:4], p[:2]))
    if len(parts) == 2:
        year, month = (parts[0], parts[1]) if _is_year(parts[0]) else (parts[1], parts[0])
        return _is_year(year) and 1 <= int(month) <= 12
    if len(parts) == 3:
        return _ymd(parts[0], parts[1], parts[2]) or _ymd(parts[2], parts[1], parts[0])
    return False


def _ymd(year: str, month: str, day: str) -> bool:
    return _is_year(year) and 1 <= int(month) <= 12 and 1 <= int(day) <= 31


_plans: dict[tuple[str, tuple[int, ...]], tuple[tuple[str, Strength, bool], ...]] = {}


def number_keys(number: str) -> dict[str, Strength]:
    """Return the index keys under which ``number`` is found, with the strength of each.

    Keys too short to be told apart from ordinary text are left out entirely.
    """
    folded = fold(number)
    if _MACHINE_ID.search(folded):
        return {SEP.join(segments(folded)): Strength.FULL}  # found only as written, like the text keeps it
    shape = (folded.translate(_ZEROS_AND_ONES), tuple(m.start() for m in _YEAR_ATOM.finditer(folded)))
    plan = _plans.get(shape)
    if plan is None:
        if len(_plans) > 50_000:
            _plans.clear()  # numbers of a workspace have few shapes; this only bounds odd input
        atoms = _ATOM.findall(folded)
        plan = _plans[shape] = _plan(atoms) if atoms else ()
    runs = _DIGIT_RUN.findall(folded)
    args = [r.lstrip("0") or "0" for r in runs] + runs
    keys: dict[str, Strength] = {}
    for template, strength, date_check in plan:
        key = template.format(*args)
        if date_check and _date_like(key):
            strength = Strength.DIGITS  # "12/05/2025" may be the invoice, or just a date in the text
        if keys.get(key, 0) < strength:
            keys[key] = strength
    return keys
