"""``reconbot handoff …`` as a user types it: set up an export folder, mark, backfill once, send, see states."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run
from tests.support.paths import SAMPLES


def test_folder_handoff_from_the_command_line(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("RECONBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("RECONBOT_DATA_DIR", str(tmp_path))
    export = tmp_path / "export"
    assert run(capsys, "invoices", "import", str(SAMPLES / "demo_invoices.csv"))[0] == 0
    code, out, _ = run(capsys, "handoff", "status")
    assert code == 0 and "no receiver is set up" in out
    code, out, _ = run(capsys, "handoff", "setup", "folder", str(export), "--manual", "--interval", "60")
    assert code == 0 and out.startswith("folder: set up; mode manual (what is marked); sent every 60 minutes")
    code, out, _ = run(capsys, "handoff", "mark", "E-KERT-2025-15")
    assert code == 0 and out == "1 document(s) marked for sending\n"
    code, _, err = run(capsys, "handoff", "mark", "NO-SUCH-1")
    assert code == 1 and err == "reconbot: there is no issued invoice numbered NO-SUCH-1\n"
    code, out, _ = run(capsys, "handoff", "send")
    assert code == 0 and out.startswith("0 marked, 1 sent, 0 to retry, 0 failed")
    assert [p.name for p in (export / "invoices").glob("E-KERT-2025-15_*.json")], list((export / "invoices").iterdir())
    code, out, _ = run(capsys, "handoff", "backfill", "--from", "2000-01-01")
    assert code == 0 and "document(s) marked; it cannot be used again" in out
    code, _, err = run(capsys, "handoff", "backfill", "--from", "2000-01-01")
    assert code == 1 and "backfill was already used on" in err
    code, out, _ = run(capsys, "handoff", "status")
    assert code == 0 and "folder: manual, every 60 min; backfill used" in out
    assert "invoice E-KERT-2025-15\tfolder\tsent\t" in out and "\tmarked\t" in out
