"""Index keys of a number: the shape-cached plans give exactly what the rules give directly."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reconbot.core.matching.numbers import _MACHINE_ID, SEP, Strength, number_keys, segments
from reconbot.core.text import fold

_ATOM = re.compile(r"[A-Z]+|[0-9]+")
_YEAR = re.compile(r"(19|20)\d\d")


def _strip(seg: str) -> str:
    return seg.lstrip("0") or "0" if seg[0] == "0" else seg


def _date_like(segs: list[str]) -> bool:
    def year(p: str) -> bool:
        return len(p) == 4 and p[:2] in ("19", "20")

    def ymd(y: str, m: str, d: str) -> bool:
        return year(y) and 1 <= int(m) <= 12 and 1 <= int(d) <= 31

    if len(segs) == 1:
        p = segs[0]
        if len(p) == 6:
            return _date_like([p[:4], p[4:]]) or _date_like([p[:2], p[2:]])
        return len(p) == 8 and (ymd(p[:4], p[4:6], p[6:]) or ymd(p[4:], p[2:4], p[:2]))
    if len(segs) == 2:
        return any(year(a) and 1 <= int(b) <= 12 for a, b in (segs, segs[::-1]))
    return len(segs) == 3 and (ymd(*segs) or ymd(*segs[::-1]))


def direct_keys(number: str) -> dict[str, Strength]:
    """The key rules applied to one number directly, without plans: the oracle for the fast version."""
    folded = fold(number)
    if _MACHINE_ID.search(folded):
        return {SEP.join(segments(folded)): Strength.FULL}
    atoms = _ATOM.findall(folded)
    if not atoms:
        return {}
    kinds = [a[0].isdigit() for a in atoms]
    joints = [i for i in range(1, len(atoms)) if kinds[i] == kinds[i - 1] and atoms[i - 1].strip("0")]
    keys: dict[str, Strength] = {}

    def add(segs: list[str], strength: Strength, whole: bool) -> None:
        digits = sum(len(s) for s in segs if s.isdigit())
        chars = sum(map(len, segs))
        if not digits or chars < 3 or (not whole and (digits < 2 or chars < 5)):
            return
        if all(s.isdigit() for s in segs):
            if len(segs) == 1 and digits < 4:
                return
            if not whole and len(segs) == 2 and sum(len(s) for s in segs if not _YEAR.fullmatch(s)) < 3:
                return
            if (len(segs) == 1 and digits < 6) or _date_like(segs):
                strength = Strength.DIGITS
            elif len(segs) == 1 or not whole:
                strength = Strength.PARTIAL
            else:
                strength = Strength.NUMERIC
        key = SEP.join(segs)
        keys[key] = max(keys.get(key, strength), strength)

    add([_strip(a) for a in atoms], Strength.FULL, True)
    if joints:
        segs = [atoms[0]]
        for i in range(1, len(atoms)):
            if i in joints:
                segs[-1] += atoms[i]
            else:
                segs.append(atoms[i])
        add([_strip(s) for s in segs], Strength.FULL, True)
    full = [_strip(a) for a in atoms]
    i = 0
    while i < len(full) - 1 and full[i].isalpha():
        i += 1
        add(full[i:], Strength.PARTIAL, False)
    return keys


def test_known_numbers() -> None:
    assert number_keys("E-KERT-2025-12") == {
        "E|KERT|2025|12": Strength.FULL,
        "EKERT|202512": Strength.FULL,
        "KERT|2025|12": Strength.PARTIAL,
    }
    assert number_keys("FV 12/05/2025") == {
        "FV|12|5|2025": Strength.FULL,
        "FV|12052025": Strength.FULL,
        "12|5|2025": Strength.DIGITS,
    }
    assert number_keys("12/2025") == {"12|2025": Strength.DIGITS, "122025": Strength.DIGITS}
    assert number_keys("2025-000123") == {"2025|123": Strength.NUMERIC, "2025000123": Strength.PARTIAL}
    assert number_keys("FV 1987/02/2025")["1987|2|2025"] is Strength.PARTIAL
    assert number_keys("ABC-2025-00123")["2025|123"] is Strength.PARTIAL
    assert number_keys("123") == {}


numbers = st.lists(
    st.one_of(
        st.text("ABEFKVZŁÁ", min_size=1, max_size=4),
        st.text("0123456789", min_size=1, max_size=7),
        st.sampled_from(["2025", "1999", "00", "0", "2024"]),
        st.sampled_from(["-", "/", " ", ".", ""]),
    ),
    max_size=7,
).map("".join)


@settings(max_examples=600)
@given(st.lists(numbers, min_size=1, max_size=6))
def test_plans_agree_with_the_rules_applied_directly(batch: list[str]) -> None:
    # A batch shares the plan cache, as the numbers of one invoice list do.
    for number in batch:
        assert number_keys(number) == direct_keys(number), number
