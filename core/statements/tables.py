"""One reader for the banks' tabular exports (CSV or XLSX), driven by a per-bank profile.

A profile is data: which header texts mean which field, the date formats, and a few switches.
Supporting another bank's export is a new profile in ``profiles.py``, not new code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise

from reconbot.core.domain import Transaction
from reconbot.core.errors import InputError
from reconbot.core.money import is_currency, parse_local_amount
from reconbot.core.statements.common import compact_account, header_key, join_lines, parse_date

Cell = str | int | float | Decimal | date | None

# Fields of Transaction a column can fill; anything else a profile names goes into ``raw``.
_FIELDS = frozenset(
    {
        "id",
        "booking_date",
        "value_date",
        "amount",
        "currency",
        "counterparty_name",
        "counterparty_iban",
        "reference",
        "account_iban",
    }
)
_AMOUNT_WITH_CURRENCY = re.compile(r"^(?P<amount>.*?)\s*(?P<currency>[A-Z]{3})$")


@dataclass(frozen=True, slots=True)
class Column:
    """A field and the header texts it appears under (compared without accents or case).

    ``position`` is used when none of the headers is found: for exports whose column order
    is documented but whose header texts are not.
    """

    field: str
    headers: tuple[str, ...]
    required: bool = False
    position: int | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """How one bank lays out its export. ``preamble`` maps a field to a label in the rows above
    the header whose value sits in the cell below it (mBank: ``#Waluta`` over ``PLN``)."""

    format: str
    title: str
    columns: tuple[Column, ...]
    date_formats: tuple[str, ...]
    delimiter: str = ";"
    preamble: dict[str, str] = field(default_factory=dict)
    # Rows without a booking date are still pending; they can change, so they are not imported.
    skip_unbooked: bool = False
    # A row with a cell starting with this marker is a summary line (mBank's "#Saldo końcowe").
    summary_marker: str = ""

    def header_index(self, rows: Sequence[Sequence[Cell]]) -> int | None:
        """Return the index of the first row holding every required header, or None."""
        required = [c for c in self.columns if c.required]
        for index, row in enumerate(rows):
            keys = {header_key(_text(cell)) for cell in row}
            if all(any(header_key(h) in keys for h in c.headers) for c in required):
                return index
        return None


def read_table(
    rows: Sequence[tuple[int, Sequence[Cell]]], profile: Profile, source: str, unit: str
) -> list[Transaction]:
    """Return the transactions of an export whose rows are (line or row number, cells).

    ``unit`` names positions in messages ("line", "sheet Tranzakciók, row"). Raises InputError when the header
    is missing, a row has the wrong number of cells, or a date, amount or currency is bad.
    """
    start = profile.header_index([cells for _, cells in rows])
    if start is None:
        wanted = ", ".join(c.headers[0] for c in profile.columns if c.required)
        raise InputError(source, "", f"no header row with the columns {wanted}, as in the {profile.title}")
    header = [_text(cell) for cell in rows[start][1]]
    keys = [header_key(h) for h in header]
    where: dict[str, int] = {}
    names: dict[str, str] = {}
    for column in profile.columns:
        found = next((keys.index(header_key(h)) for h in column.headers if header_key(h) in keys), None)
        if found is None and column.position is not None and column.position < len(keys):
            found = column.position
        if found is not None:
            where[column.field] = found
            names[column.field] = header[found] or column.headers[0]
    preamble = _preamble([cells for _, cells in rows[:start]], profile)
    width = max(i for i, h in enumerate(header) if h) + 1
    reader = _RowReader(profile, source, unit, where, names, preamble, width)
    transactions = []
    for number, cells in rows[start + 1 :]:
        transaction = reader.row(number, cells)
        if transaction is not None:
            transactions.append(transaction)
    return transactions


def _preamble(rows: list[Sequence[Cell]], profile: Profile) -> dict[str, str]:
    values: dict[str, str] = {}
    for field_name, label in profile.preamble.items():
        for above, below in pairwise(rows):
            for index, cell in enumerate(above):
                if header_key(_text(cell)) == header_key(label) and index < len(below):
                    values.setdefault(field_name, _text(below[index]))
    return values


@dataclass
class _RowReader:
    profile: Profile
    source: str
    unit: str
    where: dict[str, int]
    names: dict[str, str]
    preamble: dict[str, str]
    width: int

    def fail(self, number: int, column: str, reason: str) -> InputError:
        at = f"{self.unit} {number}" + (f", column {self.names.get(column, column)}" if column else "")
        return InputError(self.source, at, reason)

    def row(self, number: int, cells: Sequence[Cell]) -> Transaction | None:
        if all(_text(c) == "" for c in cells):
            return None
        marker = self.profile.summary_marker
        if marker and any(_text(c).startswith(marker) for c in cells):
            return None
        if len(cells) < self.width or any(_text(c) for c in cells[self.width :]):
            raise self.fail(number, "", f"expected {self.width} columns, found {len(cells)}")
        values = {name: cells[index] for name, index in self.where.items()}
        if _text(values.get("booking_date")) == "" and self.profile.skip_unbooked:
            return None
        booking_date = self.date(number, "booking_date", values.get("booking_date"))
        if booking_date is None:
            raise self.fail(number, "booking_date", "the booking date is missing")
        amount, currency = self.amount(number, values)
        raw = {name: _text(value) for name, value in values.items() if name not in _FIELDS}
        return Transaction(
            id=_text(values.get("id")),
            booking_date=booking_date,
            amount=amount,
            currency=currency,
            value_date=self.date(number, "value_date", values.get("value_date")),
            counterparty_name=" ".join(_text(values.get("counterparty_name")).split()),
            counterparty_iban=compact_account(_text(values.get("counterparty_iban"))),
            reference=join_lines(_text(values.get("reference")).splitlines()),
            bank_id=_text(values.get("id")),
            account_iban=compact_account(_text(values.get("account_iban")) or self.preamble.get("account_iban", "")),
            raw={self.unit.rsplit(" ", 1)[-1]: str(number), **{k: v for k, v in raw.items() if v}},
        )

    def date(self, number: int, column: str, value: Cell) -> date | None:
        """Return the date in a cell (a date cell or text), None when empty; raises InputError if bad."""
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = _text(value)
        if not text:
            return None
        try:
            return parse_date(text, self.profile.date_formats)
        except ValueError as exc:
            raise self.fail(number, column, str(exc)) from None

    def amount(self, number: int, values: dict[str, Cell]) -> tuple[Decimal, str]:
        value = values.get("amount")
        currency = _text(values.get("currency")).upper()
        if isinstance(value, bool) or value is None or isinstance(value, date):
            raise self.fail(number, "amount", f"{_text(value)!r} is not an amount")
        if isinstance(value, float):
            # openpyxl hands numeric cells over as binary floats; Excel itself keeps 15
            # significant digits, so printing with 15 recovers the number that was typed
            # (-4990.5, not -4990.500000000000227…) without ever computing in float.
            magnitude = Decimal(format(value, ".15g"))
        elif isinstance(value, int | Decimal):
            magnitude = Decimal(value)
        else:
            text = _text(value)
            # mBank may write the currency into the amount ("-1 234,56 PLN").
            with_code = _AMOUNT_WITH_CURRENCY.match(text)
            if with_code and is_currency(with_code.group("currency")):
                text, currency = with_code.group("amount"), currency or with_code.group("currency")
            try:
                magnitude = parse_local_amount(text)
            except ValueError as exc:
                raise self.fail(number, "amount", str(exc)) from None
        currency = currency or self.preamble.get("currency", "").upper()
        if not is_currency(currency):
            reason = f"{currency!r} is not an ISO 4217 currency code" if currency else "no currency given"
            raise self.fail(number, "currency" if "currency" in self.where else "amount", reason)
        return magnitude, currency


def _text(value: Cell) -> str:
    """Return a cell as text; whole-number floats lose their ``.0`` (ids, account numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
