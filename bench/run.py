"""Run the benchmark end to end: generate (cached), reconcile, measure, score, tabulate.

    python -m bench.run [--sizes 10000:20000,100000:200000] [--seeds 1,2,3] [--large]

Data sets are cached under ``bench/.data/`` (git-ignored). Each size and seed
runs ``reconbot reconcile --format json --output …`` as a child process pinned
to ``--cpus`` cores; wall time is measured around it and peak memory is the
larger of the child's own peak RSS (``wait4``) and the sampled RSS of its
whole process tree. The printed table is fit to paste into a README.
Exit status: 0 when every target is met, 1 when one is missed, 2 when the
engine could not be run at all.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.context import Settings
from bench.generate import GENERATOR_VERSION, generate
from bench.score import Report, load_labels, load_results, score

DATA = Path(__file__).resolve().parent / ".data"
DEFAULT_SIZES = "10000:20000,100000:200000"
LARGE = (1_000_000, 2_000_000)
TIME_LIMIT_S = 15.0  # 100k transactions / 200k invoices
MEMORY_LIMIT_MB = 1024.0
SCALING_LIMIT = 12.0  # time ratio for 10× the data


@dataclass(slots=True)
class Run:
    """One engine run on one data set."""

    transactions: int
    invoices: int
    seed: int
    wall: float = 0.0
    peak_mb: float = 0.0
    error: str = ""
    report: Report | None = None


@dataclass(slots=True)
class SizeRow:
    """Figures of one size, pooled over seeds."""

    transactions: int
    invoices: int
    runs: list[Run] = field(default_factory=list)

    @property
    def ok_runs(self) -> list[Run]:
        """Return the runs that produced a report."""
        return [r for r in self.runs if r.report is not None]

    @property
    def time(self) -> float:
        """Return the median wall time in seconds over successful runs (NaN when none)."""
        ok = self.ok_runs
        return statistics.median(r.wall for r in ok) if ok else float("nan")


def engine_command(given: str) -> tuple[list[str], str]:
    """Return the command that starts the CLI, and "" — or the last command tried and why it fails.

    ``--cmd`` when given; else the first of ``reconbot`` (on PATH), ``python -m
    reconbot`` and ``python -m reconbot.cli.main`` whose ``reconcile --help`` shows
    the contract's ``--invoices`` option.
    """
    if given:
        candidates = [shlex.split(given)]
    else:
        candidates = [["reconbot"]] if shutil.which("reconbot") else []
        candidates += [[sys.executable, "-m", "reconbot"], [sys.executable, "-m", "reconbot.cli.main"]]
    why = ""
    for cmd in candidates:
        why = _why_unavailable(cmd)
        if not why:
            return cmd, ""
    return candidates[-1], why


def _why_unavailable(cmd: list[str]) -> str:
    try:
        proc = subprocess.run([*cmd, "reconcile", "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if proc.returncode == 0 and "--invoices" in proc.stdout:
        return ""
    said = (proc.stderr or proc.stdout).strip().splitlines()
    return said[-1] if said else f"exit status {proc.returncode}, no reconcile help"


def dataset(transactions: int, invoices: int, seed: int, country: str, root: Path = DATA) -> Path:
    """Return the cached data set directory for these settings under ``root``, generating it when missing."""
    path = root / f"{country}-t{transactions}-i{invoices}-s{seed}-g{GENERATOR_VERSION}"
    manifest = path / "manifest.json"
    if manifest.is_file():
        return path
    began = time.perf_counter()
    generate(Settings(transactions, invoices, seed, country), path)
    print(f"generated {path.name} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return path


def _tree_rss_kb(pid: int) -> int:
    """Return the summed VmRSS of ``pid`` and its descendants in KiB (0 when unreadable)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            with open(f"/proc/{p}/task/{p}/children", encoding="ascii") as fh:
                todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total


def measure(cmd: list[str], cpus: int, timeout: float, log: Path) -> tuple[float, float, int]:
    """Run ``cmd`` and return (wall seconds, peak RSS in MB, exit status); -9 after a timeout."""
    available = sorted(os.sched_getaffinity(0))
    pinned = set(available[:cpus]) if cpus > 0 else set(available)
    peak_kb = [0]
    done = threading.Event()
    with log.open("wb") as err:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        # Pinned right after start (the interpreter is still loading); whatever it spawns inherits it.
        os.sched_setaffinity(proc.pid, pinned)

        def sample() -> None:  # the tree's RSS every 20 ms until the child has been reaped
            while not done.wait(0.02):
                peak_kb[0] = max(peak_kb[0], _tree_rss_kb(proc.pid))

        def kill() -> None:  # the time limit: kill the whole process group
            if not done.is_set():
                os.killpg(proc.pid, signal.SIGKILL)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        done.set()
        timer.cancel()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux and covers the child and the descendants it waited for.
    return wall, max(usage.ru_maxrss, peak_kb[0]) / 1024, proc.returncode


def run_one(cmd: list[str], data: Path, run: Run, cpus: int, timeout: float) -> None:
    """Reconcile one data set and fill ``run`` with time, memory and the score report."""
    out = data / "results.json"
    out.unlink(missing_ok=True)
    argv = [
        *cmd,
        "reconcile",
        "--invoices",
        str(data / "invoices.csv"),
        "--statement",
        str(data / "statement.csv"),
        "--format",
        "json",
        "--output",
        str(out),
    ]
    run.wall, run.peak_mb, code = measure(argv, cpus, timeout, data / "engine.log")
    if code != 0:
        tail = (data / "engine.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        run.error = f"exit status {code}" + (": " + " | ".join(tail) if tail else "")
        return
    try:
        run.report = score(load_labels(data / "labels.jsonl"), load_results(out))
    except (OSError, ValueError) as exc:
        run.error = f"unreadable results: {exc}"


def _pooled(rows: list[Run]) -> dict[str, float]:
    reps = [r.report for r in rows if r.report is not None]
    auto = sum(r.automatic for r in reps)
    unamb = sum(r.unambiguous for r in reps)
    amb = sum(r.ambiguous for r in reps)
    flags = sum(r.flags_n for r in reps)
    return {
        "precision": sum(r.automatic_correct for r in reps) / auto if auto else 1.0,
        "wrong": float(sum(len(r.wrong) for r in reps)),
        "recall": sum(r.unambiguous_matched for r in reps) / unamb if unamb else float("nan"),
        "top3": sum(r.ambiguous_hits for r in reps) / amb if amb else float("nan"),
        "flags": sum(r.flags_ok for r in reps) / flags if flags else float("nan"),
    }


def table(rows: list[SizeRow]) -> tuple[str, dict[str, bool]]:
    """Return the README table and the targets with whether each is met."""
    lines = [
        "| transactions / invoices | runs | time (s, median) | tx/s | peak MB | 10× time ratio | precision "
        "| wrong autos | recall | top-3 hit | flags |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    targets: dict[str, bool] = {}
    by_size = {r.transactions: r for r in rows}
    for row in rows:
        ok = row.ok_runs
        small = by_size.get(row.transactions // 10)
        ratio = row.time / small.time if small and small.ok_runs and ok else float("nan")
        q = _pooled(ok)
        peak = max((r.peak_mb for r in ok), default=float("nan"))
        lines.append(
            f"| {row.transactions:,} / {row.invoices:,} | {len(ok)}/{len(row.runs)} | {row.time:.2f} | "
            f"{row.transactions / row.time:,.0f} | {peak:.0f} | "
            f"{'' if ratio != ratio else f'{ratio:.1f}'} | {q['precision']:.4%} | {q['wrong']:.0f} | "
            f"{q['recall']:.2%} | {q['top3']:.2%} | {q['flags']:.2%} |"
        )
        if not ok:
            continue
        targets[f"{row.transactions:,}: zero wrong automatic allocations"] = q["wrong"] == 0
        targets[f"{row.transactions:,}: recall >= 99%"] = q["recall"] >= 0.99
        targets[f"{row.transactions:,}: top-3 hit >= 97%"] = q["top3"] >= 0.97
        if (row.transactions, row.invoices) == (100_000, 200_000):
            targets["100k/200k under 15 s"] = row.time < TIME_LIMIT_S
            targets["100k/200k peak under 1 GB"] = peak < MEMORY_LIMIT_MB
        if ratio == ratio and row.transactions == 100_000:
            targets["10× data costs at most 12× time"] = ratio <= SCALING_LIMIT
    return "\n".join(lines), targets


def _parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        tx, _, inv = part.partition(":")
        sizes.append((int(tx.replace("_", "")), int(inv.replace("_", ""))))
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=DEFAULT_SIZES, help="transactions:invoices pairs, comma-separated")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--large", action="store_true", help="also run 1,000,000 transactions / 2,000,000 invoices")
    ap.add_argument("--country", choices=("mixed", "HU", "PL"), default="mixed")
    ap.add_argument("--cmd", default="", help="how to start the CLI (default: reconbot, else python -m reconbot)")
    ap.add_argument("--cpus", type=int, default=2, help="pin the engine to this many cores (0: all)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is killed")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--data", type=Path, default=DATA, help="where data sets are cached (default bench/.data)")
    args = ap.parse_args(argv)
    sizes = _parse_sizes(args.sizes) + ([LARGE] if args.large else [])
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    datasets = {(t, i, s): dataset(t, i, s, args.country, args.data) for t, i in sizes for s in seeds}
    cmd, missing = engine_command(args.cmd)
    if missing:
        print(f"end-to-end run still to do: `{' '.join(cmd)} reconcile` is not available ({missing}).")
        print(f"data sets are ready under {args.data}")
        return 2
    rows = []
    for t, i in sizes:
        row = SizeRow(t, i)
        for s in seeds:
            run = Run(t, i, s)
            run_one(cmd, datasets[(t, i, s)], run, args.cpus, args.timeout)
            status = run.error or (
                f"precision {run.report.precision:.4%}, wrong {len(run.report.wrong)}, "
                f"recall {run.report.recall:.2%}, top-3 {run.report.top3:.2%}"
                if run.report
                else ""
            )
            print(f"{t:>9,} / {i:>9,} seed {s}: {run.wall:7.2f} s, {run.peak_mb:6.0f} MB — {status}", file=sys.stderr)
            row.runs.append(run)
        rows.append(row)
    text, targets = table(rows)
    print(text)
    print()
    for name, ok in targets.items():
        print(f"- [{'x' if ok else ' '}] {name}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": [
                        {
                            "transactions": r.transactions,
                            "invoices": r.invoices,
                            "runs": [
                                {
                                    "seed": x.seed,
                                    "wall": x.wall,
                                    "peak_mb": x.peak_mb,
                                    "error": x.error,
                                    "precision": x.report.precision if x.report else None,
                                    "wrong": len(x.report.wrong) if x.report else None,
                                    "recall": x.report.recall if x.report else None,
                                    "top3": x.report.top3 if x.report else None,
                                }
                                for x in r.runs
                            ],
                        }
                        for r in rows
                    ],
                    "targets": targets,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0 if targets and all(targets.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
