"""``reconbot archive …`` as a user types it: add, search, history, get (logged), verify, approve."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.pdf import pdf_with_text as make_pdf
from tests.support.cli import run
from tests.support.paths import SAMPLES


def test_archive_from_the_command_line(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("RECONBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("RECONBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RECONBOT_ARCHIVE_S3_URL", raising=False)
    monkeypatch.delenv("RECONBOT_ARCHIVE_DIR", raising=False)
    assert run(capsys, "invoices", "import", str(SAMPLES / "demo_invoices.csv"))[0] == 0
    first, second = tmp_path / "v1.pdf", tmp_path / "v2.pdf"
    first.write_bytes(make_pdf("E-KERT-2025-12", "Tuja sovenytelepites"))
    second.write_bytes(make_pdf("E-KERT-2025-12", "Tuja sovenytelepites, javitott"))

    code, out, _ = run(capsys, "archive", "add", str(first), "--invoice", "E-KERT-2025-12")
    assert code == 0 and out.startswith("E-KERT-2025-12: version 1 stored (archived)\n")
    code, out, _ = run(capsys, "archive", "add", str(first), "--invoice", "E-KERT-2025-12")
    assert code == 0 and out.startswith("E-KERT-2025-12: identical to version 1; nothing new stored")
    assert run(capsys, "archive", "add", str(second), "--invoice", "E-KERT-2025-12")[0] == 0
    code, _, err = run(capsys, "archive", "add", str(SAMPLES / "demo_invoices.csv"), "--invoice", "E-KERT-2025-12")
    assert code == 2 and err.endswith("demo_invoices.csv: is not a PDF (it does not start with %PDF-)\n")
    code, _, err = run(capsys, "archive", "add", str(first), "--invoice", "NO-SUCH-1")
    assert (code, err) == (1, "reconbot: there is no issued invoice numbered NO-SUCH-1\n")

    code, out, _ = run(capsys, "archive", "search", "sovenytelepites", "javitott")
    number, issued, partner, amount, version = out.rstrip("\n").split("\t")
    assert (code, number, issued, partner, version) == (0, "E-KERT-2025-12", "2025-02-24", "Nagy és Társa Kft.",
                                                        "version 2")  # fmt: skip
    assert amount.startswith("254000") and amount.endswith(" HUF")
    assert run(capsys, "archive", "search", "nincs-ilyen-szo")[1] == "nothing found\n"

    output = tmp_path / "out.pdf"
    code, out, _ = run(capsys, "archive", "get", "E-KERT-2025-12", "--version", "1", "--output", str(output))
    assert code == 0 and output.read_bytes() == first.read_bytes() and "version 1 of E-KERT-2025-12" in out
    code, _, err = run(capsys, "archive", "get", "E-KERT-2025-12", "--output", str(output))
    assert code == 1 and "exists; choose another --output" in err
    code, out, _ = run(capsys, "archive", "history", "E-KERT-2025-12")
    lines = out.splitlines()
    assert code == 0 and [line.split("\t")[:2] for line in lines if line.startswith("version")] == [
        ["version 1", "archived"], ["version 2", "archived"]]  # fmt: skip
    assert lines[1].startswith("  downloaded by cli:") and len(lines) == 3

    assert run(capsys, "archive", "verify")[1] == "2 file(s) checked, 0 with problems\n"
    [stored] = [p for p in (tmp_path / "archive").rglob("*") if p.is_file() and p.read_bytes() == first.read_bytes()]
    stored.chmod(0o644)
    stored.write_bytes(second.read_bytes())
    code, out, _ = run(capsys, "archive", "verify")
    assert code == 1 and out.startswith("E-KERT-2025-12 version 1: the stored file was changed")
    code, _, err = run(capsys, "archive", "get", "E-KERT-2025-12", "--version", "1", "--output", str(tmp_path / "x"))
    assert code == 1 and "version 1 of E-KERT-2025-12: the stored file was changed" in err
    assert not (tmp_path / "x").exists()

    code, _, err = run(capsys, "archive", "approve", "E-KERT-2025-12")
    assert (code, err) == (1, "reconbot: no version of E-KERT-2025-12 waits for approval\n")
