"""OTP Bank's XLSX export (netbank, 2025 onwards): sheet ``Tranzakciók``, a preamble, then the table.

Several accounts can share one file; each row carries its own account number.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from reconbot.core.errors import InputError
from reconbot.core.statements.common import header_key
from reconbot.core.statements.identity import with_ids
from reconbot.core.statements.model import Statement
from reconbot.core.statements.profiles import OTP_XLSX
from reconbot.core.statements.tables import Cell, read_table

SHEET = "Tranzakciók"


def parse_otp_xlsx(data: bytes, source: str) -> Statement:
    """Return the transactions of an OTP XLSX export.

    Raises InputError when the workbook cannot be opened, has no ``Tranzakciók`` sheet or no
    transaction header, or a row holds a bad value.
    """
    try:
        rows = _sheet_rows(data)
    except Exception as exc:
        # openpyxl reads a zip of XML parts and fails in many ways on a damaged one (zlib,
        # XML syntax, missing parts, odd values); every one of them means a broken upload.
        raise InputError(source, "", f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    if isinstance(rows, str):
        raise InputError(source, "", f"an XLSX workbook, but not an OTP export: no sheet {SHEET} (found {rows})")
    transactions = read_table(rows, OTP_XLSX, source, unit=f"sheet {SHEET}, row")
    return Statement(format=OTP_XLSX.format, source=source, transactions=tuple(with_ids(transactions)))


def _sheet_rows(data: bytes) -> list[tuple[int, Sequence[Cell]]] | str:
    """Return the numbered rows of the transactions sheet, or the sheet names found if it is missing."""
    with warnings.catch_warnings():
        # OTP's stylesheet has no default style; openpyxl warns about it on every load.
        warnings.simplefilter("ignore", UserWarning)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = next((workbook[name] for name in workbook.sheetnames if header_key(name) == header_key(SHEET)), None)
        if sheet is None:
            return ", ".join(workbook.sheetnames)
        # Read-only mode trusts the sheet's stated dimensions, which some generators get wrong
        # (cutting rows short); resetting makes openpyxl read every cell that is there. Rows
        # then come as long as their last value, so they are padded back to a common width.
        if isinstance(sheet, ReadOnlyWorksheet):
            sheet.reset_dimensions()
        rows = [tuple(_cell(v) for v in row) for row in sheet.iter_rows(values_only=True)]
        width = max((len(row) for row in rows), default=0)
        return [(number, row + (None,) * (width - len(row))) for number, row in enumerate(rows, start=1)]
    finally:
        workbook.close()


def _cell(value: object) -> Cell:
    # Rich text, times and formulas are not values a statement column holds; their text will do.
    if value is None or isinstance(value, str | int | float | Decimal | date):
        return value
    return str(value)
