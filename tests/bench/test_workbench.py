"""bench.workbench end to end on a small workspace (no timing is asserted)."""

from __future__ import annotations

import pytest

from bench import workbench


def test_the_workbench_benchmark_builds_serves_and_tabulates_every_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert workbench.main(["--database-url", "", "--transactions", "600", "--invoices", "50", "--requests", "2"]) == 0
    out = capsys.readouterr().out
    assert "sqlite: 600 transactions" in out
    lines = [line for line in out.splitlines() if line.startswith("| ") and "median" not in line]
    assert len(lines) == len(workbench.PAGE_NAMES)
    cells = {line.split("|")[1].strip(): line.split("|")[2:5] for line in lines}
    assert set(cells) == set(workbench.PAGE_NAMES)
    assert cells["first page (needs a person)"][0].strip() == "50" and cells["status matched"][0].strip() == "50"
    assert all(float(median) <= float(p95) for _, median, p95 in cells.values())
