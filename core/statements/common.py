"""Small helpers shared by the statement parsers: text decoding, CSV records, header names, accounts, dates, lines."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

from reconbot.core.errors import InputError

# Letters that Hungarian and Polish statements are full of. A decoding that turns the file's
# non-ASCII bytes into these is almost certainly the right one.
_PLAUSIBLE = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻáéíóöőúüűÁÉÍÓÖŐÚÜŰ")
# Tried in this order when the bytes are not UTF-8; on a tie the earlier one wins, and
# Windows-1250 is what Hungarian and Polish Windows exports use most.
_LEGACY_ENCODINGS = ("cp1250", "cp852", "latin-1")


def _plausibility(text: str) -> int:
    score = 0
    for ch in text:
        if ch < "\x80":
            continue
        if ch in _PLAUSIBLE:
            score += 2
        elif "\u2500" <= ch <= "\u259f" or unicodedata.category(ch).startswith("C"):
            # Box drawing, blocks and control characters: the classic sign of CP852 read as
            # Windows-1250 (or the reverse), never found in a real statement.
            score -= 3
        elif not ch.isalpha():
            score -= 1
    return score


def decode_text(data: bytes) -> str:
    """Return ``data`` as text: UTF-8 (a BOM is dropped) when it is valid UTF-8, else whichever
    of Windows-1250, CP852 and Latin-1 yields the most plausible Hungarian/Polish letters.

    Never raises: Latin-1 maps every byte.
    """
    body = data.removeprefix(codecs.BOM_UTF8)
    with contextlib.suppress(UnicodeDecodeError):
        return body.decode("utf-8")
    candidates: list[str] = []
    for encoding in _LEGACY_ENCODINGS:
        try:
            candidates.append(body.decode(encoding))
        except UnicodeDecodeError:
            continue  # the byte is undefined in this code page, so it is not the file's encoding
    # max() keeps the first of equal scores, which is the preference order above.
    return max(candidates, key=_plausibility)


def csv_rows(text: str, source: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, cells) per CSV record of ``text``; a blank line gives no cells.

    Raises InputError naming the line for malformed CSV.
    """
    # newline="" hands the csv module the raw line ends, so quoted fields keep theirs.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(source, f"line {line}", f"malformed CSV: {exc}") from None


# NFKD does not decompose these, yet people type them without the stroke in headers.
_STROKES = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O"})


def header_key(text: str) -> str:
    """Return a column header reduced for comparison: no accents, case-folded, single spaces, no ``#``.

    ``"#Data księgowania"`` and ``"data ksiegowania"`` give the same key.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_STROKES))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().strip().lstrip("#").split())


def join_lines(lines: Iterable[str]) -> str:
    """Return the non-blank lines, each stripped, joined with ``"\\n"``.

    Statement text stays split as the bank split it, because an invoice number may be
    broken across two lines and the matcher looks at the joins itself.
    """
    stripped = (line.strip() for line in lines)
    return "\n".join(line for line in stripped if line)


_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_IBAN_IN_TEXT = re.compile(r"(?<![A-Z0-9])[A-Z]{2}\d{2}[A-Z0-9]{11,30}(?![A-Z0-9])")
_NRB_IN_TEXT = re.compile(r"(?<!\d)\d{26}(?!\d)")


def looks_like_iban(text: str) -> bool:
    """Return True when ``text`` (compact, upper case) has the shape of an IBAN (check sum not verified)."""
    return bool(_IBAN.fullmatch(text))


def is_iban(text: str) -> bool:
    """Return True when ``text`` (compact, upper case) is an IBAN with a valid ISO 7064 check sum."""
    if not looks_like_iban(text):
        return False
    rearranged = text[4:] + text[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def compact_account(text: str) -> str:
    """Return an account number without spaces, dashes, quotes or other punctuation, upper case."""
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


def account_from_text(text: str) -> str:
    """Return the IBAN or Polish NRB (26 digits) found in ``text``, else ``text`` stripped.

    MT940 ``:25:`` values come as ``PL29…``, ``/PL29…``, ``BIC/account`` or ``blz/account``;
    only a recognisable account number is worth normalising.
    """
    squeezed = re.sub(r"[ \-]", "", text.upper())
    for match in _IBAN_IN_TEXT.finditer(squeezed):
        if is_iban(match.group()):
            return match.group()
    nrb = _NRB_IN_TEXT.search(squeezed)
    return nrb.group() if nrb else text.strip()


def strict_iso_date(text: str) -> date:
    """Return the date of exactly ``YYYY-MM-DD``; raises ValueError with a short reason otherwise.

    (``date.fromisoformat`` alone would also take ``20240131`` and week dates.)
    """
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        with contextlib.suppress(ValueError):
            return date.fromisoformat(text)
    raise ValueError(f"{text!r} is not a date (expected YYYY-MM-DD)")


def iso_date(text: str) -> date:
    """Return the date part of an ISO date or date-time (``2024-01-31T10:15:00+01:00``).

    Raises ValueError with a short reason otherwise.
    """
    try:
        return strict_iso_date(text.strip()[:10])
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a date (expected YYYY-MM-DD)") from None


def parse_date(text: str, formats: Sequence[str]) -> date:
    """Return the date of ``text`` in the first of ``formats`` (``strptime`` style) that fits.

    A time after the date (``2024.01.31 10:22``) is ignored. Raises ValueError otherwise.
    """
    head = text.strip().split(" ")[0].split("T")[0]
    for fmt in formats:
        try:
            return datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    shown = ", ".join(fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD") for fmt in formats)
    raise ValueError(f"{text.strip()!r} is not a date (expected {shown})")
