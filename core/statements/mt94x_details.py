"""The ``:86:`` field of MT940/MT942: who paid and why, in one of a few house styles.

- Numbered subfields behind a separator: ``?`` (German banks), ``~`` (most Polish banks),
  ``<`` (Polish banks with CP852 files), ``+`` (Nordea) or ``>`` (Triodos). ``20``–``29`` and ``60``–``63``
  are the title, ``32``/``33`` the counterparty's name, ``38`` its IBAN, ``30``/``31`` its bank
  and account.
- mBank's tokens: ``OD:``/``DLA:`` name, ``Z RACH.:``/``NA RACH.:`` account, ``TYT.:`` title,
  ``TNR:`` mBank's own transaction number.
- Anything else is free text and becomes the reference as it is (Hungarian banks have no
  subfield standard).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from reconbot.core.statements.common import compact_account, join_lines, looks_like_iban

_STRUCTURED_START = re.compile(r"\s*(?P<code>\d{3})?\s*(?P<sep>[?~<>+])\d\d")
_PURPOSE_FIELDS = frozenset(str(n) for n in range(20, 30))
_TITLE_FIELDS = _PURPOSE_FIELDS | {"60", "61", "62", "63"}
# Subfield widths (German 27x, Polish 35x): a name part this long was cut by the bank.
_WIDTH = {"?": 27}
_DEFAULT_WIDTH = 35
# SEPA keywords inside German titles ("EREF+…SVWZ+…"); only EREF is used, the rest end it.
_SEPA_KEYWORD = re.compile(
    r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC |PURP|COAM|OAMT|SQTP|ORCR|ORMR|DDAT|MDAT)\+"
)
_MBANK_KEY = re.compile(r"(?:^|;)\s*(OD|DLA|Z RACH\.|NA RACH\.|TYT\.|TNR|ID IPH)\s*:", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Details:
    """What ``:86:`` says about a transaction; ``extra`` holds codes worth keeping in ``raw``."""

    reference: str = ""
    counterparty_name: str = ""
    counterparty_iban: str = ""
    end_to_end_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def read_details(text: str) -> Details:
    """Return the reference, counterparty and end-to-end id found in an ``:86:`` text.

    Never raises: text that fits no known layout is returned whole as the reference.
    """
    # SWIFT wraps lines at 65 characters wherever it likes, even inside a subfield, so the
    # numbered layout is read from the lines joined without separators.
    joined = "".join(text.splitlines())
    start = _STRUCTURED_START.match(joined)
    if start:
        sep = start.group("sep")
        # Two subfields at least, or "100+20 EUR" style free text would pass for structured.
        if len(re.findall(re.escape(sep) + r"\d\d", joined)) >= 2:
            return _subfields(joined, sep, start.group("code") or "")
    if _MBANK_KEY.search(text):
        return _mbank(text)
    return Details(reference=join_lines(text.splitlines()))


def _subfields(joined: str, sep: str, code: str) -> Details:
    parts = re.split(re.escape(sep) + r"(\d\d)", joined)
    fields: dict[str, list[str]] = {}
    for number, value in zip(parts[1::2], parts[2::2], strict=True):
        fields.setdefault(number, []).append(value)
    title = [value for number, values in fields.items() if number in _TITLE_FIELDS for value in values]
    name = _join_name(fields.get("32", []) + fields.get("33", []), _WIDTH.get(sep, _DEFAULT_WIDTH))
    # ~38 is the IBAN; ?31 is an IBAN with some banks and a bare account number with others.
    # Only the shape is checked: a bank's typo is still better evidence than nothing.
    candidates = (compact_account("".join(fields.get(n, []))) for n in ("38", "31"))
    account = next((c for c in candidates if looks_like_iban(c) or re.fullmatch(r"\d{26}", c)), "")
    extra = {"code": code, "posting_text": "".join(fields.get("00", [])).strip()}
    extra["bank_code"] = "".join(fields.get("30", [])).strip()
    extra["account"] = "".join(fields.get("31", [])).strip()
    return Details(
        reference=join_lines(title),
        counterparty_name=name,
        counterparty_iban=account,
        end_to_end_id=_sepa_eref("".join(v for n, vs in fields.items() if n in _PURPOSE_FIELDS for v in vs)),
        extra={k: v for k, v in extra.items() if v},
    )


def _join_name(parts: list[str], width: int) -> str:
    name = parts[0] if parts else ""
    for previous, part in pairwise(parts):
        # A part of full width was cut mid-word; a shorter one ended where a word ended.
        name += ("" if len(previous) >= width else " ") + part
    return " ".join(name.split())


def _values(pattern: re.Pattern[str], text: str) -> list[tuple[str, str]]:
    """Return (keyword, text up to the next keyword) for every match of ``pattern`` in ``text``."""
    matches = list(pattern.finditer(text))
    ends = [m.start() for m in matches[1:]] + [len(text)] if matches else []
    return [(m.group(1), text[m.end() : end]) for m, end in zip(matches, ends, strict=True)]


def _sepa_eref(title: str) -> str:
    value = next((v.strip() for key, v in _values(_SEPA_KEYWORD, title) if key == "EREF"), "")
    return "" if value.upper() == "NOTPROVIDED" else value


def _mbank(text: str) -> Details:
    values: dict[str, str] = {}
    for key, value in _values(_MBANK_KEY, text):
        values.setdefault(key, value.strip().rstrip(";").strip())
    name = values.get("OD") or values.get("DLA") or ""
    # mBank pads the name to a fixed width before the address; the mt-940 library strips the
    # padding at line ends, so a line break can be that boundary too.
    name = re.split(r" {2,}|\n", name, maxsplit=1)[0]
    account = values.get("Z RACH.") or values.get("NA RACH.") or ""
    extra = {
        "operation": _MBANK_KEY.split(text, maxsplit=1)[0].strip(),
        "tnr": re.sub(r"\s", "", values.get("TNR", "")),
        "iph_id": values.get("ID IPH", ""),
    }
    title = values.get("TYT.", "")
    return Details(
        reference=join_lines(title.splitlines()) if title else join_lines(text.splitlines()),
        counterparty_name=" ".join(name.split()),
        counterparty_iban=compact_account(account),
        extra={k: v for k, v in extra.items() if v},
    )
