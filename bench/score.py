"""Score ``reconbot reconcile --format json`` results against benchmark labels.

    python -m bench.score --labels DIR/labels.jsonl --results results.json

Definitions (per transaction):

* *automatic*: the result carries allocations (allocations are what is booked
  and carried forward; a ``matched`` status without allocations and
  allocations on a non-``matched`` result are reported as contract warnings);
* *correct*: the allocations equal the expected ones as (invoice number,
  amount) pairs — for noise, no allocation at all; for ``expected_any``, any
  one of the options;
* *top-3 hit* (ambiguous): one of the first three candidates names exactly the
  invoice set of an expected option (amounts are not compared: a suggestion
  carries none);
* *flags*: only ``partial_payment``, ``overpayment`` and ``already_paid`` are
  compared: all three on correctly matched unambiguous transactions, and
  ``already_paid`` alone on noise (other flags on a result without allocations
  describe its suggestions, which noise may well get).

The exit status is 0 when every quality target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bench.model import ALREADY_PAID, AMBIGUOUS, CORE_FLAGS, NOISE, UNAMBIGUOUS

TARGET_RECALL = 0.99
TARGET_TOP3 = 0.97

Alloc = tuple[str, Decimal]


@dataclass(slots=True)
class Counts:
    """Outcome counts of one scenario (or one category)."""

    category: str
    n: int = 0
    auto: int = 0
    auto_correct: int = 0
    hits: int = 0  # ambiguous: right answer in the top 3 candidates
    flags_n: int = 0
    flags_ok: int = 0

    @property
    def wrong(self) -> int:
        """Return the number of automatic transactions with wrong allocations."""
        return self.auto - self.auto_correct


@dataclass(slots=True)
class WrongAuto:
    """One automatic transaction whose allocations are wrong."""

    id: str
    scenario: str
    variant: str
    expected: list[Alloc]
    got: list[Alloc]
    after_miss: str = ""  # id of an earlier transaction this label relies on that the engine got wrong


@dataclass(slots=True)
class Report:
    """Everything ``score`` measures; ``targets`` says which quality targets are met."""

    total: int = 0
    automatic: int = 0
    automatic_correct: int = 0
    wrong_allocations: int = 0  # allocation lines in wrong automatic transactions
    unambiguous: int = 0
    unambiguous_matched: int = 0
    ambiguous: int = 0
    ambiguous_hits: int = 0
    ambiguous_auto: int = 0
    ambiguous_auto_correct: int = 0
    noise: int = 0
    noise_auto: int = 0
    flags_n: int = 0
    flags_ok: int = 0
    flag_tp: dict[str, int] = field(default_factory=dict)
    flag_fp: dict[str, int] = field(default_factory=dict)
    flag_fn: dict[str, int] = field(default_factory=dict)
    wrong: list[WrongAuto] = field(default_factory=list)
    scenarios: dict[str, Counts] = field(default_factory=dict)
    variants: dict[str, tuple[int, int]] = field(default_factory=dict)  # writing variant -> (unambiguous, matched)
    missing: int = 0
    extra: int = 0
    warnings: list[str] = field(default_factory=list)
    warn_counts: dict[str, int] = field(default_factory=dict)  # contract inconsistencies by kind
    warn_first: dict[str, str] = field(default_factory=dict)  # … and the first transaction showing it

    @property
    def precision(self) -> float:
        """Return correct automatic / automatic transactions (1.0 when nothing was automatic)."""
        return self.automatic_correct / self.automatic if self.automatic else 1.0

    @property
    def recall(self) -> float:
        """Return the share of unambiguous transactions matched automatically and correctly."""
        return self.unambiguous_matched / self.unambiguous if self.unambiguous else 1.0

    @property
    def top3(self) -> float:
        """Return the share of ambiguous transactions with a right answer in the top 3 candidates."""
        return self.ambiguous_hits / self.ambiguous if self.ambiguous else 1.0

    @property
    def flag_accuracy(self) -> float:
        """Return the share of flag-scored transactions whose core flags are exactly the expected ones."""
        return self.flags_ok / self.flags_n if self.flags_n else 1.0

    @property
    def targets(self) -> dict[str, bool]:
        """Return each quality target and whether it is met."""
        return {
            "zero wrong automatic allocations": not self.wrong,
            f"recall on unambiguous >= {TARGET_RECALL:.0%}": self.recall >= TARGET_RECALL,
            f"top-3 hit rate on ambiguous >= {TARGET_TOP3:.0%}": self.top3 >= TARGET_TOP3,
        }


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("NaN")


def _allocs(items: Iterable[Mapping[str, Any]]) -> list[Alloc]:
    return sorted((str(a.get("invoice_number", "")), _dec(a.get("amount"))) for a in items)


def _same(a: list[Alloc], b: list[Alloc]) -> bool:
    # Decimal equality ignores trailing zeros (127000 == 127000.00); NaN never matches.
    return len(a) == len(b) and all(x[0] == y[0] and x[1] == y[1] for x, y in zip(a, b, strict=True))


def _options(label: Mapping[str, Any]) -> list[list[Alloc]]:
    if label.get("expected_any"):
        return [_allocs(opt) for opt in label["expected_any"]]
    return [_allocs(label.get("expected", []))]


def score(labels: Iterable[Mapping[str, Any]], results: Iterable[Mapping[str, Any]]) -> Report:
    """Return the scores of ``results`` (the ``results`` list of the JSON output) against ``labels``."""
    rep = Report()
    by_id: dict[str, Mapping[str, Any]] = {}
    for r in results:
        tid = str(r.get("transaction_id", ""))
        if tid in by_id:
            rep.warnings.append(f"duplicate result for {tid}")
        by_id[tid] = r
    seen: set[str] = set()
    # Unambiguous transactions the engine got wrong, and the invoices they should have paid, to tell
    # which later wrong automatics follow from an earlier miss (the engine's ledger differs from then on).
    failed: dict[str, str] = {}  # invoice number (or "#" + transaction id) -> first failed transaction
    for label in labels:
        tid = label["id"]
        seen.add(tid)
        rep.total += 1
        res = by_id.get(tid)
        if res is None:
            rep.missing += 1
            res = {}
        _score_one(rep, label, res, failed)
    rep.extra = len(set(by_id) - seen)
    if rep.missing:
        rep.warnings.append(f"{rep.missing} labelled transactions have no result (scored as unmatched)")
    if rep.extra:
        rep.warnings.append(f"{rep.extra} results name transactions that are not labelled")
    return rep


def _score_one(rep: Report, label: Mapping[str, Any], res: Mapping[str, Any], failed: dict[str, str]) -> None:
    tid, category, scenario = label["id"], label["category"], label["scenario"]
    counts = rep.scenarios.setdefault(scenario, Counts(category))
    counts.n += 1
    got = _allocs(res.get("allocations") or [])
    status = res.get("status", "unmatched")
    auto = bool(got)
    if auto != (status == "matched"):
        kind = "allocations on a non-matched result" if auto else "status matched without allocations"
        rep.warn_first.setdefault(kind, tid)
        rep.warn_counts[kind] = rep.warn_counts.get(kind, 0) + 1
    options = _options(label)
    correct = any(_same(got, opt) for opt in options) if category != NOISE else not got
    if auto:
        rep.automatic += 1
        counts.auto += 1
        if correct:
            rep.automatic_correct += 1
            counts.auto_correct += 1
        else:
            rep.wrong_allocations += len(got)
            dep = str(label.get("depends_on", ""))
            after = dep if failed.get("#" + dep) else ""
            for number, _ in [*options[0], *got]:
                after = after or failed.get(number, "")
            rep.wrong.append(WrongAuto(tid, scenario, str(label.get("variant", "")), options[0], got, after))
    if category == UNAMBIGUOUS:
        rep.unambiguous += 1
        if auto and correct:
            rep.unambiguous_matched += 1
        else:
            failed["#" + tid] = tid
            for number, _ in options[0]:
                failed.setdefault(number, tid)
    elif category == AMBIGUOUS:
        rep.ambiguous += 1
        if auto:
            rep.ambiguous_auto += 1
            rep.ambiguous_auto_correct += int(correct)
        wanted = [{n for n, _ in opt} for opt in options]
        top = [set(map(str, c.get("invoice_numbers") or [])) for c in (res.get("candidates") or [])[:3]]
        if any(t in wanted for t in top):
            rep.ambiguous_hits += 1
            counts.hits += 1
    else:
        rep.noise += 1
        if got:
            rep.noise_auto += 1
    if category == UNAMBIGUOUS:
        for tag in filter(None, str(label.get("variant", "")).split("+")):
            n, ok = rep.variants.get(tag, (0, 0))
            rep.variants[tag] = (n + 1, ok + int(auto and correct))
    if category == NOISE or (category == UNAMBIGUOUS and auto and correct):
        scored = CORE_FLAGS if category == UNAMBIGUOUS else frozenset({ALREADY_PAID})
        expected = set(label.get("expected_flags") or []) & scored
        _score_flags(rep, counts, expected, set(res.get("flags") or []) & scored)


def _score_flags(rep: Report, counts: Counts, expected: set[str], got: set[str]) -> None:
    rep.flags_n += 1
    counts.flags_n += 1
    if got == expected:
        rep.flags_ok += 1
        counts.flags_ok += 1
    for f in sorted(CORE_FLAGS):
        if f in got and f in expected:
            rep.flag_tp[f] = rep.flag_tp.get(f, 0) + 1
        elif f in got:
            rep.flag_fp[f] = rep.flag_fp.get(f, 0) + 1
        elif f in expected:
            rep.flag_fn[f] = rep.flag_fn.get(f, 0) + 1


def _pct(num: int, den: int) -> str:
    return f"{num / den:7.2%}" if den else "      -"


def _fmt_allocs(allocs: list[Alloc]) -> str:
    return ", ".join(f"{n}={a}" for n, a in allocs) or "nothing"


def format_report(rep: Report, show: int = 10) -> str:
    """Return the report as text: headline figures, wrong automatics, per-scenario table, targets."""
    lines = [
        f"transactions            {rep.total}  (unambiguous {rep.unambiguous}, ambiguous {rep.ambiguous}, "
        f"noise {rep.noise})",
        f"automatic precision     {rep.precision:.4%}  ({rep.automatic_correct}/{rep.automatic})",
        f"wrong automatic         {len(rep.wrong)} transactions, {rep.wrong_allocations} allocation lines "
        f"({sum(1 for w in rep.wrong if w.after_miss)} of them after an earlier miss on the same invoice)",
        f"recall (unambiguous)    {rep.recall:.4%}  ({rep.unambiguous_matched}/{rep.unambiguous})",
        f"top-3 hit (ambiguous)   {rep.top3:.4%}  ({rep.ambiguous_hits}/{rep.ambiguous})",
        f"ambiguous auto-matched  {rep.ambiguous_auto}  (correct {rep.ambiguous_auto_correct}, "
        f"wrong {rep.ambiguous_auto - rep.ambiguous_auto_correct}; should be suggestions)",
        f"noise with allocations  {rep.noise_auto}",
        f"flag accuracy           {rep.flag_accuracy:.4%}  ({rep.flags_ok}/{rep.flags_n}; "
        + ", ".join(
            f"{f} tp {rep.flag_tp.get(f, 0)} fp {rep.flag_fp.get(f, 0)} fn {rep.flag_fn.get(f, 0)}"
            for f in sorted(CORE_FLAGS)
        )
        + ")",
    ]
    if rep.wrong:
        lines.append(f"\nfirst wrong automatic allocations (of {len(rep.wrong)}):")
        for w in rep.wrong[:show]:
            why = f"  [after the engine missed {w.after_miss}]" if w.after_miss else ""
            lines.append(
                f"  {w.id} {w.scenario} {w.variant}: expected {_fmt_allocs(w.expected)}; got {_fmt_allocs(w.got)}{why}"
            )
    lines.append("\n| scenario | category | n | auto | wrong auto | recall / top-3 / clean | flags ok |")
    lines.append("|---|---|---:|---:|---:|---:|---:|")
    for name, c in sorted(rep.scenarios.items(), key=lambda kv: (kv[1].category, kv[0])):
        if c.category == UNAMBIGUOUS:
            metric = _pct(c.auto_correct, c.n)
        elif c.category == AMBIGUOUS:
            metric = _pct(c.hits, c.n)
        else:
            metric = _pct(c.n - c.wrong, c.n)
        lines.append(
            f"| {name} | {c.category} | {c.n} | {c.auto} | {c.wrong} | {metric.strip()} | "
            f"{_pct(c.flags_ok, c.flags_n).strip()} |"
        )
    if rep.variants:
        lines.append("\nrecall by writing variant (unambiguous transactions carrying it):")
        ranked = sorted(rep.variants.items(), key=lambda kv: kv[1][1] / kv[1][0])
        lines.append("  " + ", ".join(f"{tag} {_pct(ok, n).strip()} of {n}" for tag, (n, ok) in ranked))
    lines.append("\ntargets:")
    lines += [f"  [{'x' if ok else ' '}] {name}" for name, ok in rep.targets.items()]
    lines += [f"warning: {text}" for text in rep.warnings[:show]]
    for kind, n in sorted(rep.warn_counts.items()):
        lines.append(f"warning: {n} × {kind} (first: {rep.warn_first[kind]})")
    return "\n".join(lines)


def load_labels(path: Path) -> list[dict[str, Any]]:
    """Return the records of a labels.jsonl file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_results(path: Path) -> list[dict[str, Any]]:
    """Return the ``results`` list of a ``reconbot reconcile --format json`` output file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise ValueError(f"{path}: no 'results' list")
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the command line: print the report; return 0 when every quality target is met, else 1."""
    ap = argparse.ArgumentParser(prog="python -m bench.score", description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", type=Path, required=True)
    ap.add_argument("--results", type=Path, required=True)
    ap.add_argument("--show", type=int, default=10, help="how many wrong automatic allocations to list")
    args = ap.parse_args(argv)
    rep = score(load_labels(args.labels), load_results(args.results))
    print(format_report(rep, args.show))
    return 0 if all(rep.targets.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
