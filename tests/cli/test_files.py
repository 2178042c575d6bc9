"""`reconbot reconcile` and `reconbot parse`: the output contracts other tools rely on, and clear errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import run
from tests.support.paths import SAMPLES

INVOICES, STATEMENT = SAMPLES / "demo_invoices.csv", SAMPLES / "demo_statement.xml"


def test_reconcile_json_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "reconcile", "--invoices", str(INVOICES), "--statement", str(STATEMENT), "--format", "json"
    )
    assert code == 0
    doc = json.loads(out)
    results = {r["transaction_id"]: r for r in doc["results"]}
    assert len(results) == 13
    for r in doc["results"]:
        assert r["status"] in ("matched", "suggested", "unmatched")
        assert {"transaction_id", "status", "allocations", "candidates", "flags"} <= r.keys()
        for c in r["candidates"]:
            assert {"invoice_numbers", "confidence", "reasons"} <= c.keys() and 0 < c["confidence"] < 1
    assert results["KH250303001"]["allocations"] == [{"invoice_number": "E-KERT-2025-1", "amount": "127000.00"}]
    assert results["KH250312009"]["flags"] == ["partial_payment"]
    assert results["KH250308006"]["flags"] == ["already_paid"] and results["KH250308006"]["allocations"] == []
    assert results["KH250306004"]["candidates"][0]["invoice_numbers"] == ["E-KERT-2025-15", "E-KERT-2025-16"]
    assert doc["summary"]["matched"] == 8 and doc["summary"]["transactions"] == 13


def test_reconcile_csv_and_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "result.csv"
    code, out, _ = run(
        capsys,
        "reconcile",
        "--invoices",
        str(INVOICES),
        "--statement",
        str(STATEMENT),
        "--format",
        "csv",
        "--output",
        str(target),
    )
    assert code == 0 and out == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {"transaction_id", "status", "invoice_number", "amount"} <= rows[0].keys()
    assert {"KH250303001", "matched", "E-KERT-2025-1", "127000.00"} <= set(rows[0].values())


def test_reconcile_table_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "reconcile", "--invoices", str(INVOICES), "--statement", str(STATEMENT))
    assert code == 0
    assert "FEKETE BT" in out and "Still open" in out and "8 paired, 2 to check, 3 open" in out


def test_overlapping_statements_are_counted_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "reconcile",
        "--invoices",
        str(INVOICES),
        "--statement",
        str(STATEMENT),
        "--statement",
        str(STATEMENT),
        "--format",
        "json",
    )
    summary = json.loads(out)["summary"]
    assert code == 0 and summary["transactions"] == 13 and summary["duplicates_skipped"] == 13


def test_parse_json_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "parse", str(STATEMENT), "--format", "json")
    transactions = json.loads(out)["transactions"]
    assert code == 0 and len(transactions) == 13
    assert transactions[0] == {
        "id": "KH250303001", "booking_date": "2025-03-03", "value_date": "2025-03-03", "amount": "127000.00",
        "currency": "HUF", "counterparty_name": "FEKETE BT", "counterparty_iban": "HU90107001112233445500000000",
        "reference": "Szla E-KERT-20\n25-1 kifizetése", "end_to_end_id": "",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["parse", "{bad}"], "reconbot: bad.csv: line 3, column amount: '1O0'"),
        (["reconcile", "--invoices", "{bad}", "--statement", str(STATEMENT)], "reconbot: bad.csv: line 1: missing"),
        (["parse", "{missing}"], "reconbot: nothing.xml: cannot read the file"),
    ],
)
def test_bad_input_is_one_line_without_traceback(tmp_path: Path, args: list[str], expected: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,booking_date,value_date,amount,currency,counterparty_name,counterparty_iban,reference,"
        "end_to_end_id\nT1,2025-03-01,,100,HUF,A,,x,\nT2,2025-03-02,,1O0,HUF,B,,y,\n",
        encoding="utf-8",
    )
    missing = tmp_path / "nothing.xml"
    argv = [a.format(bad=bad, missing=missing) for a in args]
    done = subprocess.run([sys.executable, "-m", "reconbot", *argv], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(expected.format(missing=missing))
