"""Statement files in, transactions out.

``parse_statement`` recognises the format from the content (never the file name) and hands the
bytes to one small reader per format. Every problem with the input comes out as one
``InputError`` naming the file, the place in it and the reason; there are no partial results.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from reconbot.core.errors import InputError
from reconbot.core.statements.camt import CAMT_FORMATS, parse_camt
from reconbot.core.statements.common import decode_text
from reconbot.core.statements.csv_bank import csv_profile, parse_bank_csv
from reconbot.core.statements.csv_generic import GENERIC_HEADER, is_generic_csv, parse_generic_csv
from reconbot.core.statements.model import Statement
from reconbot.core.statements.mt94x import MT94X_FORMATS, looks_like_mt94x, parse_mt94x
from reconbot.core.statements.profiles import CSV_PROFILES, OTP_XLSX
from reconbot.core.statements.xlsx_otp import parse_otp_xlsx

__all__ = ["FORMATS", "Statement", "parse_statement"]

FORMATS: tuple[str, ...] = (
    *CAMT_FORMATS,
    *MT94X_FORMATS,
    "csv",
    *(p.format for p in CSV_PROFILES),
    OTP_XLSX.format,
)

EXPECTED = (
    "expected camt.052/053/054 XML, MT940/MT942, the generic CSV (header "
    f"{GENERIC_HEADER}), a K&H or mBank CSV export, or an OTP XLSX export"
)

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the pre-2007 binary .xls container


def parse_statement(path: Path, data: bytes | None = None) -> Statement:
    """Return the transactions in the statement file at ``path`` (or in ``data``, named ``path``).

    Raises InputError when the file cannot be read, is empty, has an unknown format, or holds
    anything its format does not allow.
    """
    source = path.name
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(source, "", f"cannot read the file: {exc.strerror or exc}") from None
    if not data.strip(b" \t\r\n\x00\x1a"):
        raise InputError(source, "", "the file is empty")
    if data.startswith(_ZIP):
        return parse_otp_xlsx(data, source)
    if data.startswith(_OLE2):
        raise InputError(source, "", f"an old binary Excel (.xls) file; save it as .xlsx. {EXPECTED}")
    # Detection looks at bytes; a UTF-8 BOM read as Latin-1 would hide what follows it.
    head = data.removeprefix(codecs.BOM_UTF8)[:4096].decode("latin-1")
    if head.lstrip(" \t\r\n").startswith("<"):
        return parse_camt(data, source, EXPECTED)
    if looks_like_mt94x(head):
        return parse_mt94x(data, source)
    text = decode_text(data)
    # Only the start of the first line is looked at; splitting a whole large export would be wasted work.
    first_line = (text.lstrip("\ufeff")[:4096].splitlines() or [""])[0]
    if is_generic_csv(first_line):
        return parse_generic_csv(text, source)
    profile = csv_profile(text)
    if profile is not None:
        return parse_bank_csv(text, profile, source)
    raise InputError(source, "line 1", f"unknown format: {first_line[:60]!r}; {EXPECTED}")
