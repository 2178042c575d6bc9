"""SWIFT MT940 statements and MT942 interim reports, read with the ``mt-940`` package.

The package splits the tags; we choose the encoding, sign the amounts ourselves (it signs a
reversed credit ``RC`` positive unless told otherwise), read ``:86:`` with our own splitter
(it only knows the German ``?`` subfields) and turn its errors into InputError.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import mt940

from reconbot.core.domain import Transaction
from reconbot.core.errors import InputError
from reconbot.core.money import is_currency
from reconbot.core.statements.common import account_from_text, decode_text, join_lines
from reconbot.core.statements.identity import with_ids
from reconbot.core.statements.model import Statement
from reconbot.core.statements.mt94x_details import read_details

MT94X_FORMATS = ("mt940", "mt942")

# Keep :86: whole (we split it ourselves), of any length, and drop a BOM so the first :20: counts.
_PROCESSORS: dict[str, list[Any]] = {"post_transaction_details": []}
_OPTIONS = mt940.Options(strip_bom=True, unbounded_details=True, case_insensitive_marks=True, non_swift_free_text=True)
# The package logs every pattern mismatch at ERROR before raising; we report those as
# InputError with the line, so its log lines would only be noise in the user's console.
logging.getLogger("mt940.tags").setLevel(logging.CRITICAL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_STATEMENT_START = re.compile(r"^:20:", re.MULTILINE)
# Value date, optional entry date, debit/credit mark, optional funds code, amount.
_LINE_61 = re.compile(r":61:(\d{2})(\d{2})(\d{2})(\d{4}|\s{4})?\s*(R?[CD])([A-Z])?\s?([\d,]*)", re.IGNORECASE)


def looks_like_mt94x(head: str) -> bool:
    """Return True when the start of a file looks like SWIFT MT940/MT942 (possibly a fragment of one)."""
    text = _CONTROL.sub("", head).lstrip("\ufeff \t\r\n")
    return text.startswith("{1:") or bool(re.match(r":\d\d[A-Z]?:", text)) or bool(_STATEMENT_START.search(text[:2048]))


def parse_mt94x(data: bytes, source: str) -> Statement:
    """Return the transactions of every statement in an MT940/MT942 file.

    Raises InputError for a fragment without ``:20:``, a bad date or amount, a missing
    currency, or anything the mt-940 package cannot read (with the line it stopped at).
    """
    text = _clean(decode_text(data))
    lines = text.split("\n")
    starts = [n for n, line in enumerate(lines) if line.startswith(":20:")]
    if not starts:
        raise InputError(source, "line 1", "no :20: tag: this is a fragment of an MT940 file, not a statement")
    _check_statement_lines(lines, source)
    transactions: list[Transaction] = []
    for first, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        transactions.extend(_block(lines, first, end, source))
    fmt = "mt942" if re.search(r"^:34F:", text, re.MULTILINE) and ":60F:" not in text else "mt940"
    return Statement(format=fmt, source=source, transactions=tuple(with_ids(transactions)))


def _clean(text: str) -> str:
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).removeprefix("\ufeff")
    # Drop the SWIFT envelope: "{1:…}{2:…}{3:…}{4:" before a message and "-}{5:…}" after it.
    text = re.sub(r"^\{1:.*?\{4:", "", text, flags=re.MULTILINE)
    return re.sub(r"^-\}.*$", "", text, flags=re.MULTILINE)


def _check_statement_lines(lines: list[str], source: str) -> None:
    """Check the dates and amount of every ``:61:`` line, so errors name the line."""
    for n, line in enumerate(lines, start=1):
        if not line.startswith(":61:"):
            continue
        match = _LINE_61.match(line)
        if not match:
            raise InputError(source, f"line {n}", f"{line!r} is not an MT940 statement line (:61:)")
        year, month, day, entry, _mark, _funds, amount = match.groups()
        try:
            # Some banks date interest on 30 February; the mt-940 package moves that to month end.
            last = calendar.monthrange(2000 + int(year), int(month))[1] if 1 <= int(month) <= 12 else 0
            date(2000 + int(year), int(month), min(int(day), last) if month == "02" else int(day))
            if entry and entry.strip():
                date(2000, int(entry[:2]), int(entry[2:]))  # a leap year, so any 29 Feb passes
        except ValueError:
            raise InputError(source, f"line {n}", f"{line[4:14]!r} does not start with a valid date") from None
        # An empty amount is allowed here (some banks wrap it onto the next line), and so is
        # one without a comma (a whole number), which the package reads fine.
        if amount.count(",") > 1 or amount == ",":
            raise InputError(source, f"line {n}", f"{amount!r} is not an MT940 amount (digits with one comma)")


def _block(lines: list[str], first: int, end: int, source: str) -> Iterator[Transaction]:
    block = "\n".join(lines[first:end])
    parsed = _parse_block(block, first, source)
    account = account_from_text(str(parsed.data.get("account_identification") or ""))
    statement_ref = str(parsed.data.get("transaction_reference") or "").strip()
    line_numbers = [first + n for n, line in enumerate(lines[first:end], start=1) if line.startswith(":61:")]
    for index, item in enumerate(parsed.transactions):
        line = line_numbers[index] if index < len(line_numbers) else first + 1
        yield _transaction(item.data, parsed.currency, account, statement_ref, f"line {line}", source)


def _parse_block(block: str, first: int, source: str) -> mt940.models.Transactions:
    try:
        return _run_library(block, None)
    except RuntimeError as exc:
        # ASN Bank writes an IBAN into the customer reference, longer than the 16 characters
        # the standard allows; the package has a statement-line variant for exactly that.
        if len(exc.args) < 2 or not isinstance(exc.args[1], mt940.tags.Statement):
            raise InputError(source, _where(block, first, exc), _reason(exc)) from None
    try:
        return _run_library(block, {61: mt940.tags.StatementASNB()})
    except RuntimeError as exc:  # _run_library turns the package's other errors into RuntimeError
        raise InputError(source, _where(block, first, exc), _reason(exc)) from None


def _run_library(block: str, tags: dict[int | str, Any] | None) -> mt940.models.Transactions:
    parsed = mt940.models.Transactions(processors=_PROCESSORS, tags=tags, options=_OPTIONS)
    try:
        parsed.parse(block)
    except (ValueError, ArithmeticError, LookupError, TypeError, AttributeError) as exc:
        raise RuntimeError(str(exc)) from exc
    return parsed


def _where(block: str, first: int, exc: BaseException) -> str:
    value = exc.args[2] if len(exc.args) > 2 and isinstance(exc.args[2], str) else ""
    needle = value.split("\n", 1)[0].strip()
    if needle:
        for n, line in enumerate(block.split("\n"), start=first + 1):
            if needle in line:
                return f"line {n}"
    return f"line {first + 1} (statement starting here)"


def _reason(exc: BaseException) -> str:
    value = exc.args[2] if len(exc.args) > 2 and isinstance(exc.args[2], str) else ""
    tag = exc.args[1] if len(exc.args) > 1 else None
    if value and tag is not None:
        return f"cannot read {getattr(tag, 'name', 'tag')!s} from {value[:60]!r}"
    return f"not a readable MT940 statement ({exc})"


def _transaction(
    data: dict[str, Any], statement_currency: str | None, account: str, statement_ref: str, where: str, source: str
) -> Transaction:
    currency = str(data.get("currency") or statement_currency or "")
    if not is_currency(currency):
        reason = (
            f"{currency!r} is not an ISO 4217 currency code"
            if currency
            else ("no currency: the statement has no balance line (:60F:, :62F:, :34F: …) to take it from")
        )
        raise InputError(source, where, reason)
    status = str(data.get("status") or "").upper()
    try:
        magnitude = abs(Decimal(data["amount"].amount))
    except (KeyError, AttributeError, InvalidOperation):
        raise InputError(source, where, "the statement line has no readable amount") from None
    # C and RD (reversal of a debit) bring money in; D and RC (reversal of a credit) take it out.
    amount = magnitude if status in ("C", "RD") else -magnitude
    value_date = _plain_date(data["date"])
    booking_date = _plain_date(data.get("entry_date") or data["date"])
    bank_ref = str(data.get("bank_reference") or "").strip()
    if bank_ref.upper() == "NONREF":
        bank_ref = ""
    text = str(data.get("transaction_details") or data.get("non_swift_text") or "")
    details = read_details(text)
    customer_ref = str(data.get("customer_reference") or "").strip()
    if customer_ref.upper() == "NONREF":
        customer_ref = ""
    raw = {
        "statement": statement_ref,
        "line": where.removeprefix("line "),
        "status": status,
        "type": str(data.get("id") or "").strip(),
        "customer_reference": customer_ref,
        "supplementary": join_lines(str(data.get("extra_details") or "").splitlines()),
        "details": text,
        **details.extra,
    }
    return Transaction(
        id=bank_ref,
        booking_date=booking_date,
        amount=amount,
        currency=currency,
        value_date=value_date,
        counterparty_name=details.counterparty_name,
        counterparty_iban=details.counterparty_iban,
        reference=details.reference or customer_ref,
        end_to_end_id=details.end_to_end_id,
        bank_id=bank_ref,
        account_iban=account,
        raw={k: v for k, v in raw.items() if v},
    )


def _plain_date(value: date) -> date:
    # mt940.models.Date is a date subclass; store the plain type.
    return date(value.year, value.month, value.day)
