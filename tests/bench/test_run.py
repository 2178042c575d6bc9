"""bench.run end to end with a stand-in engine (no timing is asserted)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench import run
from bench.generate import GENERATOR_VERSION

# A stand-in for `reconbot`: answers every transaction with its label, like a perfect engine.
FAKE_ENGINE = """
import json, sys
from pathlib import Path
args = sys.argv[1:]
assert args[0] == "reconcile"
if "--help" in args:
    print("usage: reconbot reconcile --invoices INVOICES.csv --statement FILE")
    sys.exit(0)
statement = Path(args[args.index("--statement") + 1])
out = Path(args[args.index("--output") + 1])
results = []
for line in (statement.parent / "labels.jsonl").read_text(encoding="utf-8").splitlines():
    label = json.loads(line)
    auto = label["category"] == "unambiguous"
    results.append({
        "transaction_id": label["id"], "status": "matched" if auto else "unmatched",
        "allocations": label["expected"] if auto else [], "flags": label["expected_flags"],
        "candidates": [{"invoice_numbers": [e["invoice_number"] for e in label["expected"]],
                        "confidence": 0.5, "reasons": []}] if label["category"] == "ambiguous" else [],
    })
out.write_text(json.dumps({"results": results, "summary": {}}), encoding="utf-8")
"""


@pytest.fixture
def fake_engine(tmp_path: Path) -> str:
    script = tmp_path / "fake_engine.py"
    script.write_text(FAKE_ENGINE, encoding="utf-8")
    return f"{sys.executable} {script}"


def test_run_generates_measures_scores_and_tabulates(
    tmp_path: Path, fake_engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = tmp_path / "figures.json"
    code = run.main(
        [
            "--sizes",
            "100:300,1000:3000",
            "--seeds",
            "1",
            "--cmd",
            fake_engine,
            "--cpus",
            "1",
            "--data",
            str(tmp_path / "data"),
            "--json",
            str(figures),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "| 1,000 / 3,000 | 1/1 |" in out and "100.0000%" in out
    assert "- [x] 1,000: zero wrong automatic allocations" in out
    saved = json.loads(figures.read_text(encoding="utf-8"))
    assert [r["transactions"] for r in saved["rows"]] == [100, 1000]
    assert saved["rows"][1]["runs"][0]["peak_mb"] > 0
    assert (tmp_path / "data" / f"mixed-t100-i300-s1-g{GENERATOR_VERSION}" / "labels.jsonl").is_file()


def test_missing_engine_is_reported_not_crashed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run.main(
        ["--sizes", "50:100", "--seeds", "1", "--cmd", f"{sys.executable} -c pass", "--data", str(tmp_path / "data")]
    )
    assert code == 2
    assert "end-to-end run still to do" in capsys.readouterr().out


def test_failing_engine_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "broken.py"
    script.write_text('import sys\nif "--help" in sys.argv: print("--invoices"); sys.exit(0)\nsys.exit("boom")\n')
    code = run.main(
        ["--sizes", "50:100", "--seeds", "1", "--cmd", f"{sys.executable} {script}", "--data", str(tmp_path / "data")]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "exit status 1: boom" in captured.err
