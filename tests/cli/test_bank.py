"""``reconbot bank …`` as a user types it: connect the sandbox bank, finish, sync, list, disconnect."""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import time_machine
from sqlmodel import Session, select

from reconbot.cli.main import main
from reconbot.core.banks import sandbox
from reconbot.core.persistence.database import create_engine_for
from reconbot.core.persistence.tables import AuditEventRecord
from tests.fakes.server import free_port
from tests.support.cli import run
from tests.support.paths import SAMPLES


@pytest.fixture
def books(migrated_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> int:
    """Point the commands at the test database and a free local port; return the port."""
    port = free_port()
    monkeypatch.setenv("RECONBOT_DATABASE_URL", migrated_url)
    monkeypatch.setenv("RECONBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECONBOT_LISTEN", f"127.0.0.1:{port}")
    monkeypatch.setenv("COLUMNS", "160")
    return port


def consent_url(output: str) -> str:
    found = re.search(r"http://\S+/sandbox-bank/authorize\S+", output)
    assert found, output
    return found.group(0)


# A weekday morning in Budapest: "180 days left" must not depend on when the suite runs (from the last local hour
# of a winter day, now + 180 days is past midnight of the next date in summer time).
CONNECTED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_connect_without_waiting_then_finish_sync_and_list(books: int, capsys: pytest.CaptureFixture[str]) -> None:
    with time_machine.travel(CONNECTED_AT, tick=True):
        _connect_finish_sync_list(books, capsys)


def _connect_finish_sync_list(books: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "invoices", "import", str(SAMPLES / "demo_invoices.csv"))[0] == 0
    code, out, _ = run(capsys, "bank", "connect", "sandbox", "Sandbox Bank HU", "--no-wait")
    assert code == 0
    query = {k: v[0] for k, v in parse_qs(urlsplit(consent_url(out)).query).items()}
    assert query["redirect_url"] == f"http://127.0.0.1:{books}/bank/callback"
    landed = sandbox.consent_redirect(query["redirect_url"], query["state"], query["reference"], approved=True)

    code, out, _ = run(capsys, "bank", "finish", landed)
    assert code == 0 and "Sandbox Bank HU connected: 2 account(s)" in out
    code, out, _ = run(capsys, "bank", "sync")
    assert code == 0 and re.search(r"\[1\] HU\d+: \d+ new", out), out
    code, out, _ = run(capsys, "bank", "list")
    assert "[1] Sandbox Bank HU via sandbox: active, consent until" in out and "(180 days left)" in out
    assert "balance" in out and "last success" in out
    moment = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    account = rf"\n    HU\d{{26}} HUF: last sync {moment}; last success {moment}; balance [\d\s]+HUF"
    assert re.search(account + r" \(closingBooked, \d{4}-\d\d-\d\d\)\n", out), out  # the first kind the bank lists
    code, out, _ = run(capsys, "bank", "disconnect", "1")
    assert code == 0 and "transactions are kept" in out
    code, _, err = run(capsys, "bank", "sync", "1")
    assert code == 1 and "disconnected" in err


def test_connect_waits_for_the_owner_to_come_back_from_the_bank(books: int, capsys: pytest.CaptureFixture[str]) -> None:
    result: list[int] = []
    argv = ["bank", "connect", "sandbox", "SANDBOX_PL", "--country", "PL"]
    command = threading.Thread(target=lambda: result.append(main(argv)))
    command.start()
    url = ""
    for _ in range(200):
        out = capsys.readouterr().out
        if "sandbox-bank/authorize" in out:
            url = consent_url(out)
            break
        command.join(0.05)
    assert url
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        for _ in range(100):  # the command starts listening right after printing the link
            try:
                page = browser.get(url)
                break
            except httpx.ConnectError:
                command.join(0.05)
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        form = {k: query[k] for k in ("reference", "state", "redirect_url")}
        landed = browser.post(str(page.url.copy_with(query=None)), data={**form, "decision": "approve"})
    assert "Sandbox Bank PL connected" in landed.text
    command.join(10)
    assert result == [0]
    assert "Sandbox Bank PL connected (connection 1)" in capsys.readouterr().out


def test_setup_refuses_a_key_that_is_not_one(books: int, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nnot really\n-----END PRIVATE KEY-----\n")
    code, out, err = run(capsys, "bank", "setup", "enable-banking", "--application-id", "a", "--private-key-file",
                         str(key))  # fmt: skip
    assert code == 1 and "not really" not in err + out
    assert err.startswith("reconbot: enable-banking") and err[-1] == "\n" and err.count("\n") == 1


def test_settings_are_checked_then_stored(books: int, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "bank", "settings", "--sync-times", "11:45,25:00")
    assert code == 2 and "'25:00' is not a time" in err
    code, out, _ = run(capsys, "bank", "settings", "--sync-times", "hourly", "--reminder-days", "14,8,2")
    assert code == 0 and "sync times: hourly" in out and "consent reminders: 14,8,2" in out
    assert "sync times: hourly" in run(capsys, "bank", "settings")[1]
    engine = create_engine_for(os.environ["RECONBOT_DATABASE_URL"])
    with Session(engine) as session:  # audited as the panel's settings page is
        changes = session.exec(select(AuditEventRecord).where(AuditEventRecord.action == "workspace.matching_settings"))
        (change,) = changes.all()
    engine.dispose()
    assert change.actor.startswith("cli:") and change.data == {"sync_times": "hourly", "reminder_days": "14,8,2"}
