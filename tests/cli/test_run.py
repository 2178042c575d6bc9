"""``reconbot run`` as the quick start uses it: a fresh data folder, the panel's first-run page, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes.server import free_port


def test_run_on_a_fresh_data_folder_serves_first_run_setup_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "RECONBOT_DATA_DIR": str(tmp_path), "RECONBOT_LISTEN": f"127.0.0.1:{port}"}
    env.pop("RECONBOT_DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "reconbot", "run"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "in your browser to set it up" in line or process.poll() is not None:
                break
        assert f"Open http://127.0.0.1:{port}/ in your browser to set it up." in "".join(lines), lines
        home = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=True)
        assert home.status_code == 200 and "Set up reconbot" in home.text
        assert (tmp_path / "reconbot.sqlite3").exists() or any(tmp_path.iterdir())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            rest, _ = process.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("reconbot run did not stop on Ctrl-C")
    assert process.returncode == 0, rest
    assert "Traceback" not in rest
