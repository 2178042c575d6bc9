"""Money helpers: amounts are ``Decimal`` with an ISO 4217 currency, never float."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.numbers import format_currency, list_currencies

ZERO = Decimal(0)

_DOT_AMOUNT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_PLAIN_AMOUNT = re.compile(r"\d+(\.\d+)?")


@cache
def _iso_currencies() -> frozenset[str]:
    # Babel's list is the ISO 4217 set plus a few historical codes; good enough to catch typos.
    return frozenset(list_currencies())


def is_currency(code: str) -> bool:
    """Return True when ``code`` is an ISO 4217 currency code such as ``HUF``."""
    return len(code) == 3 and code.isupper() and code in _iso_currencies()


def parse_dot_amount(text: str) -> Decimal:
    """Parse ``"-1234.50"`` (dot decimal separator, no grouping) into a Decimal.

    Raises ValueError with a short reason when the text is not such a number.
    """
    text = text.strip()
    if not _DOT_AMOUNT.fullmatch(text):
        raise ValueError(f"{text!r} is not a number with a dot as decimal separator")
    return Decimal(text)


def parse_local_amount(text: str) -> Decimal:
    """Parse an amount as banks print it: ``"1 234,50"``, ``"-1.234,50"``, ``"1,234.50"``, ``"127000"``.

    The decimal separator is the last ``,`` or ``.`` followed by one to three
    digits at the end (three only when the other separator also occurs);
    everything else is grouping. Raises ValueError when nothing sensible remains.
    """
    raw = text
    text = _SPACES.sub("", text.strip())
    for suffix in ("PLN", "HUF", "EUR", "USD", "Ft", "zł", "zl"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    sign = ""
    if text[:1] in "+-":
        sign, text = text[:1].replace("+", ""), text[1:]
    elif text.endswith("-"):
        sign, text = "-", text[:-1]
    last_comma, last_dot = text.rfind(","), text.rfind(".")
    sep_pos = max(last_comma, last_dot)
    if sep_pos >= 0:
        decimals = len(text) - sep_pos - 1
        both = last_comma >= 0 and last_dot >= 0
        single_sep = text.count(text[sep_pos]) == 1
        if 0 < decimals <= 2 or (decimals == 3 and both) or (decimals > 3 and single_sep and not both):
            integer, fraction = text[:sep_pos], text[sep_pos + 1 :]
        else:
            integer, fraction = text, ""
        integer = integer.replace(",", "").replace(".", "")
        text = f"{integer}.{fraction}" if fraction else integer
    if not _PLAIN_AMOUNT.fullmatch(text):
        raise ValueError(f"{raw.strip()!r} is not an amount")
    return Decimal(sign + text)


def to_minor_units(amount: Decimal, exponent: int = 2) -> int | None:
    """Return ``amount`` as an integer count of 10**-exponent units, or None if it has finer digits."""
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def format_amount(amount: Decimal) -> str:
    """Return the plain decimal text of ``amount`` without exponent (``1E+3`` → ``1000``)."""
    return format(amount, "f")


def format_money(amount: Decimal, currency: str, locale: str = "en") -> str:
    """Return ``amount`` as people of ``locale`` write it: ``127 000 Ft``, ``1 230,00 zł``, ``€1,230.00``.

    Whole forint amounts are shown without fillér, as Hungarians write them;
    digits an amount really has beyond the currency's usual ones are kept.
    """
    pattern = None
    if currency == "HUF" and amount == amount.to_integral_value():
        standard = Locale.parse(locale).currency_formats["standard"].pattern
        pattern = standard.split(";")[0].replace(".00", "")
    return format_currency(
        amount, currency, format=pattern, locale=locale, currency_digits=pattern is None, decimal_quantization=False
    )
