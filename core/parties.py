"""Party identity: comparable keys for account numbers, tax ids and names as banks print them."""

from __future__ import annotations

import re
from functools import lru_cache

from reconbot.core.text import fold

_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_DIGITS = re.compile(r"\D+")

# The words of legal forms, folded: "Kft.", "KORLATOLT FELELOSSEGU TARSASAG", "Sp. z o.o.",
# "SPOLKA Z OGRANICZONA ODPOWIEDZIALNOSCIA", "S.A.". Single letters ("Z", "O", "S", "A") go anyway.
_LEGAL_WORDS = frozenset(
    """
    KFT BT ZRT NYRT RT KKT EV EC KHT NONPROFIT KORLATOLT FELELOSSEGU TARSASAG BETETI KOZKERESETI
    ZARTKORUEN NYILVANOSAN MUKODO RESZVENYTARSASAG EGYENI VALLALKOZO VALLALKOZAS CEG
    SP SPZOO ZOO OO SA SPJ SPK SKA SC SPOLKA OGRANICZONA ODPOWIEDZIALNOSCIA AKCYJNA JAWNA KOMANDYTOWA
    KOMANDYTOWO PARTNERSKA CYWILNA GMBH AG LTD LIMITED LLC INC PLC SRO BV KG CO
    """.split()
)
# Words that say nothing about who someone is: conjunctions, titles, addresses.
_STOP_WORDS = frozenset("ES AND I UND DR IFJ ID OZV PROF MGR INZ UL UTCA UT TER KRT ALEJA AL OS PL".split())
_NOT_NAME = _LEGAL_WORDS | _STOP_WORDS
# A legal form's word cut short by a bank ("FELELOS", "ODPOWIEDZIAL"): its proper prefixes of three letters or more.
_LEGAL_PREFIXES = frozenset(w[:n] for w in _LEGAL_WORDS for n in range(3, len(w)))
# The shortest name field among banks' formats (German MT940 subfields) is 27 characters.
_SHORTEST_CUT = 27
# Where an address starts: a street word (ul., utca, út, aleja, körút, tér…) or a postcode, Polish
# (31-234) or Hungarian (four digits before the town).
_ADDRESS = re.compile(r"\b(?:UL|UTCA|UT|ALEJA|AL|OS|PL|KRT|KORUT|TER)\b\.?\s|\b\d\d-\d\d\d\b|\b\d{4}\s+[A-Z]")


@lru_cache(maxsize=65536)  # partners repeat across thousands of invoices and transactions
def name_tokens(name: str) -> frozenset[str]:
    """Return the words that identify a partner: folded, without legal forms, titles or numbers.

    ``"Kovács és Társa Kft."`` and ``"KOVACS ES TARSA KORLATOLT FELELOSSEGU TARSASAG"`` give the
    same set; a set also ignores person-name order (``Jan Nowak`` / ``NOWAK JAN``).
    """
    printed = _name_part(name)
    words = _NON_ALNUM.sub(" ", printed).split()
    if len(printed) >= _SHORTEST_CUT and words and words[-1] in _LEGAL_PREFIXES:
        words.pop()  # "KOVACS ES TARSA KORLATOLT FELELOS": a legal form cut at the field's end
    return frozenset(w for w in words if len(w) > 1 and not w.isdigit() and w not in _NOT_NAME)


@lru_cache(maxsize=65536)
def cut_word(name: str) -> str:
    """Return the last word of a name long enough to have been cut at a bank's field limit, else ``""``.

    Banks cut names at 27 to 140 characters, mid-word: ``KERTESZETI ES EPITOIPARI SZOLGALTA``.
    A shorter name, or a word before the last, was printed whole (``NOWAK JUSTYNA`` is not Nowakowska).
    """
    printed = _name_part(name)
    if len(printed) < _SHORTEST_CUT:
        return ""
    words = _NON_ALNUM.sub(" ", printed).split()
    last = words[-1] if words else ""
    return last if last in name_tokens(name) else ""


def _name_part(name: str) -> str:
    """Return a name as printed, folded, without an address the bank appended."""
    folded = fold(name).strip()
    address = _ADDRESS.search(folded)
    if address and address.start() > 0:
        folded = folded[: address.start()].rstrip()  # banks append the payer's address to the name field
    return folded


def compact_iban(iban: str) -> str:
    """Return an account number as stored and shown: upper case, without spaces."""
    return "".join(iban.split()).upper()


@lru_cache(maxsize=65536)
def account_key(iban: str) -> str:
    """Return a comparable key for an account number, or ``""`` when there is none.

    Hungarian and Polish accounts are keyed by their domestic number, because
    banks print them with or without the ``HU``/``PL`` IBAN prefix; a
    16-digit Hungarian account equals its 24-digit form padded with zeros.
    """
    text = _NON_ALNUM.sub("", iban.upper())
    if len(text) < 8:
        return ""
    if text[:2] == "HU" and text[2:].isdigit():
        text = text[4:]  # HU + check digits + the domestic (giro) number
    elif text[:2] == "PL" and text[2:].isdigit():
        text = text[2:]  # the Polish NRB keeps the check digits
    if len(text) == 24 and text.isdigit() and text.endswith("00000000"):
        return text[:16]
    return text


@lru_cache(maxsize=65536)
def tax_key(tax_id: str) -> str:
    """Return the part of a tax id that identifies the company, or ``""``.

    Hungarian ``12345678-2-42`` and EU ``HU12345678`` both become ``12345678``;
    a Polish NIP (``PL``-prefixed or not, with or without dashes) its ten digits.
    """
    digits = _DIGITS.sub("", tax_id)
    if len(digits) == 11:  # Hungarian adószám: törzsszám (8) + VAT code (1) + county (2)
        return digits[:8]
    return digits if len(digits) >= 8 else ""
