"""Text folding shared by reference matching, name matching and party identity.

Banks drop accents, change case and replace characters freely, so every
comparison happens on folded text: upper-case ASCII letters and digits.
"""

from __future__ import annotations

import unicodedata
from functools import cache

# Letters that Unicode does not decompose into a base letter plus an accent.
_SPECIAL = {
    "ł": "l",
    "Ł": "L",
    "ø": "o",
    "Ø": "O",
    "đ": "d",
    "Đ": "D",
    "ß": "ss",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ı": "i",
}


@cache
def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0x80, 0x250):
        ch = chr(cp)
        if ch in _SPECIAL:
            table[cp] = _SPECIAL[ch]
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base != ch and base.isascii():
            table[cp] = base
    # Non-breaking and other exotic spaces become plain spaces.
    for cp in (0xA0, 0x2007, 0x202F, 0x2009):
        table[cp] = " "
    return table


def fold(text: str) -> str:
    """Return ``text`` upper-cased with accents removed: ``"Számla ŁÓDŹ"`` → ``"SZAMLA LODZ"``."""
    if text.isascii():
        return text.upper()
    return text.translate(_fold_table()).upper()
