"""The database commands as a user types them: demo, import, report, pair, unpair, ignore, db upgrade."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconbot.cli.main import main
from tests.support.cli import run
from tests.support.paths import SAMPLES


@pytest.fixture
def books(migrated_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point the commands at a migrated test database of their own (SQLite, and PostgreSQL in CI)."""
    monkeypatch.setenv("RECONBOT_DATABASE_URL", migrated_url)
    monkeypatch.setenv("RECONBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "160")
    return migrated_url


def test_demo_twice_imports_nothing_the_second_time(books: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, first, _ = run(capsys, "demo")
    assert code == 0
    assert "demo_statement.xml (camt.053): 13 transactions, 13 new; 8 paired automatically" in first
    assert "E-KERT-2025-12" in first and "Still open" in first
    code, second, _ = run(capsys, "demo")
    assert code == 0 and "13 transactions, 0 new; 0 paired automatically" in second
    assert "8 paired, 2 to check, 3 open" in second


def test_import_report_pair_unpair_ignore(books: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "invoices", "import", str(SAMPLES / "demo_invoices.csv"))[0] == 0
    code, out, _ = run(capsys, "import", str(SAMPLES / "demo_statement.xml"))
    assert code == 0 and "13 new; 8 paired automatically, 2 with suggestions to check, 3 without a match" in out
    code, out, _ = run(capsys, "pair", "4", "E-KERT-2025-15", "E-KERT-2025-16")
    assert code == 0 and out.splitlines() == [
        "paired transaction 4 with E-KERT-2025-15: 60000",
        "paired transaction 4 with E-KERT-2025-16: 30000",
    ]
    code, _, err = run(capsys, "pair", "4", "E-KERT-2025-14")
    assert code == 1 and "transaction KH250306004 is already fully paired (by cli:" in err
    code, out, _ = run(capsys, "report")
    assert code == 0 and "9 paired, 1 to check, 3 open" in out
    code, out, _ = run(capsys, "unpair", "4")
    assert code == 0 and len(out.splitlines()) == 2
    code, _, err = run(capsys, "unpair", "4")
    assert code == 1 and err == "reconbot: transaction KH250306004 has no pairing to undo\n"
    assert run(capsys, "ignore", "10")[0] == 0
    code, out, _ = run(capsys, "report")
    assert "8 paired, 2 to check, 2 open, 1 set aside" in out


def test_workspaces_are_kept_apart(books: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--workspace", "anna", "invoices", "import", str(SAMPLES / "demo_invoices.csv"))
    code, out, _ = run(capsys, "--workspace", "bela", "report")
    assert code == 0 and "Still open" not in out and "0 paired, 0 to check, 0 open" in out


def test_db_upgrade_names_the_database_without_its_password(books: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and out.strip().endswith("is at revision 0008")


def test_quick_start_demo_runs_on_the_embedded_default(tmp_path: Path) -> None:
    # What a newcomer runs: no database configured, an SQLite file appears in the data folder.
    env = {k: v for k, v in os.environ.items() if k != "RECONBOT_DATABASE_URL"} | {"RECONBOT_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "reconbot", "demo"], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "reconbot.sqlite3").is_file()
    assert "8 paired automatically" in done.stdout


def test_ids_are_checked_and_set_aside_can_be_undone(books: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "demo")
    with pytest.raises(SystemExit) as bad:
        main(["pair", "99999999999999999999", "E-KERT-2025-14"])
    assert bad.value.code == 2 and "is not an id" in capsys.readouterr().err
    code, _, err = run(capsys, "ignore", "11")
    assert code == 1 and "there is no transaction 11" in err  # the demo has a workspace of its own
    assert run(capsys, "--workspace", "demo", "ignore", "11")[0] == 0
    code, out, _ = run(capsys, "--workspace", "demo", "unignore", "11")
    assert (code, out) == (0, "brought transaction 11 back\n")


def test_an_invoice_is_named_by_its_exact_number_or_else_by_its_id(
    books: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    invoices = tmp_path / "invoices.csv"
    invoices.write_text(
        "number,direction,kind,partner_name,partner_tax_id,partner_iban,order_number,issue_date,due_date,"
        "gross_amount,currency,paid_amount,status\n"
        "A-1,issued,invoice,Kert Bt.,,,,2025-03-01,2025-03-09,1000,HUF,0,issued\n"
        "A-1,received,invoice,Virág Kft.,,,,2025-03-01,2025-03-09,2000,HUF,0,issued\n",
        encoding="utf-8",
    )
    run(capsys, "invoices", "import", str(invoices))
    code, out, err = run(capsys, "pair", "1", "A-1")
    assert (code, out, err) == (1, "", "reconbot: 2 invoices are numbered A-1; give the invoice id instead\n")
    code, _, err = run(capsys, "pair", "1", "a-1")
    assert (code, err) == (1, "reconbot: there is no invoice numbered a-1\n")  # no guessing which one was meant
    code, _, err = run(capsys, "pair", "1", "2")
    assert code == 1 and "there is no transaction 1" in err  # an id: the invoice is found, the transaction is not


def test_a_bad_file_among_several_imports_none(books: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    code, out, err = run(capsys, "import", str(SAMPLES / "demo_statement.xml"), str(missing))
    assert code == 2 and out == "" and "missing.csv" in err
    code, out, _ = run(capsys, "report")
    assert "0 paired, 0 to check, 0 open" in out


def test_a_database_that_cannot_be_opened_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A folder where the SQLite file should be: SQLite cannot open it.
    monkeypatch.setenv("RECONBOT_DATABASE_URL", f"sqlite:///{tmp_path}")
    code, out, err = run(capsys, "report")
    assert code == 1 and out == ""
    assert err.startswith("reconbot: cannot use the database: ") and len(err.strip().splitlines()) == 1
