"""Format detection from content, and the promise that bad input only ever raises InputError."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from reconbot.core.errors import InputError
from reconbot.core.statements import FORMATS, Statement, parse_statement
from tests.statements.test_xlsx_otp import workbook

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statements"
CAMT = b"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr/>
<Stmt><Id>1</Id><Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<BookgDt><Dt>2024-01-02</Dt></BookgDt></Ntry></Stmt></BkToCstmrStmt></Document>"""
MT940 = (
    b":20:REF\n:25:HU42117730161111101800000000\n:28C:1\n:60F:C240101HUF0,\n:61:240102C1,00NTRFNONREF//B1\n:86:x\n-\n"
)


def parse(data: bytes, name: str = "upload.bin") -> Statement:
    return parse_statement(Path(name), data)


def failure(data: bytes, name: str = "upload.bin") -> InputError:
    with pytest.raises(InputError) as caught:
        parse(data, name)
    assert caught.value.source == name
    return caught.value


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (CAMT, "camt.053"),
        (b"\xef\xbb\xbf\r\n  " + CAMT, "camt.053"),
        (MT940, "mt940"),
        (b"\xef\xbb\xbf" + MT940, "mt940"),
        (b"\x01\r\n" + MT940.replace(b"\n", b"\r\n") + b"\x03", "mt940"),
        (b"ABNANL2A\n940\nABNANL2A\n" + MT940, "mt940"),
        (b"{1:F01BANKHUHBAXXX0000000000}{2:O940BANKHUHBXXXXN}{4:\n" + MT940 + b"-}", "mt940"),
        ((FIXTURES / "generic.csv").read_bytes(), "csv"),
        (b"\xef\xbb\xbf" + (FIXTURES / "generic.csv").read_bytes(), "csv"),
        ((FIXTURES / "kh.csv").read_bytes(), "csv-kh"),
        ((FIXTURES / "mbank.csv").read_bytes(), "csv-mbank"),
        # A workbook's bytes carry the time it was saved: an id of its own keeps xdist's workers agreeing.
        pytest.param(workbook(), "xlsx-otp", id="workbook-xlsx-otp"),
    ],
)
def test_format_is_recognised_from_the_content(data: bytes, fmt: str) -> None:
    # The name says nothing: detection must not look at the extension.
    statement = parse(data, "statement.txt")
    assert statement.format == fmt
    assert statement.source == "statement.txt"
    assert statement.transactions


def test_formats_are_listed_for_help_texts() -> None:
    assert FORMATS == ("camt.052", "camt.053", "camt.054", "mt940", "mt942", "csv", "csv-kh", "csv-mbank", "xlsx-otp")


@pytest.mark.parametrize("data", [b"", b"  \r\n\t\n"])
def test_empty_file(data: bytes) -> None:
    assert failure(data).reason == "the file is empty"


def test_unknown_format_says_what_is_expected() -> None:
    error = failure(b"Date;Amount\n2024-01-01;5\n")
    assert error.location == "line 1"
    assert error.reason.startswith("unknown format: 'Date;Amount'; expected camt.052/053/054 XML, MT940/MT942")
    assert "generic CSV (header id,booking_date,value_date" in error.reason


def test_old_excel_file() -> None:
    assert "old binary Excel (.xls)" in failure(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100).reason


def test_other_workbook_is_not_mistaken_for_otp() -> None:
    book = Workbook()
    out = io.BytesIO()
    book.save(out)
    assert "not an OTP export" in failure(out.getvalue()).reason


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        parse_statement(tmp_path / "nope.xml")
    assert caught.value.source == "nope.xml"
    assert "cannot read the file" in caught.value.reason


def test_data_argument_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "real.sta"
    path.write_bytes(b"garbage")
    assert parse_statement(path, MT940).format == "mt940"


SEEDS = [
    CAMT,
    MT940,
    (FIXTURES / "generic.csv").read_bytes(),
    (FIXTURES / "kh.csv").read_bytes(),
    (FIXTURES / "mbank.csv").read_bytes(),
    workbook(),
]
MUTATION = st.tuples(st.floats(0, 1), st.sampled_from(["delete", "insert", "replace"]), st.binary(max_size=4))


def _mutate(data: bytes, mutations: list[tuple[float, str, bytes]]) -> bytes:
    for where, how, chunk in mutations:
        at = int(where * len(data))
        if how == "delete":
            data = data[:at] + data[at + 1 + len(chunk) :]
        elif how == "insert":
            data = data[:at] + chunk + data[at:]
        else:
            data = data[:at] + chunk + data[at + len(chunk) :]
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.lists(MUTATION, min_size=1, max_size=6))
def test_damaged_files_give_input_error_or_a_statement(seed: bytes, mutations: list[tuple[float, str, bytes]]) -> None:
    data = _mutate(seed, mutations)
    try:
        statement = parse(data)
    except InputError as exc:
        assert exc.source == "upload.bin"
        assert exc.reason
        return
    assert all(t.id and t.currency for t in statement.transactions)
