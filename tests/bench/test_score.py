"""The benchmark scorer on hand-made labels and results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.score import format_report, main, score


def _label(
    tid: str,
    category: str,
    scenario: str,
    expected: list[tuple[str, str]] | None = None,
    flags: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": tid,
        "category": category,
        "scenario": scenario,
        "expected": [{"invoice_number": n, "amount": a} for n, a in expected or []],
        "expected_flags": flags or [],
    }
    rec.update(extra)
    return rec


def _matched(tid: str, allocs: list[tuple[str, str]], flags: list[str] | None = None) -> dict[str, Any]:
    return {
        "transaction_id": tid,
        "status": "matched",
        "flags": flags or [],
        "candidates": [],
        "allocations": [{"invoice_number": n, "amount": a} for n, a in allocs],
    }


def _suggested(tid: str, candidates: list[list[str]], flags: list[str] | None = None) -> dict[str, Any]:
    return {
        "transaction_id": tid,
        "status": "suggested",
        "allocations": [],
        "flags": flags or [],
        "candidates": [{"invoice_numbers": c, "confidence": 0.5, "reasons": []} for c in candidates],
    }


def _unmatched(tid: str, flags: list[str] | None = None) -> dict[str, Any]:
    return {"transaction_id": tid, "status": "unmatched", "allocations": [], "candidates": [], "flags": flags or []}


LABELS = [
    _label("T1", "unambiguous", "ref_exact", [("E-KERT-2025-12", "127000")]),
    _label("T2", "unambiguous", "multi_exact", [("A-1", "10.00"), ("A-2", "5.50")]),
    _label("T3", "unambiguous", "ref_partial", [("FV 1/05/2025", "50.00")], ["partial_payment"]),
    _label("T4", "ambiguous", "amb_combination", [("B-1", "100"), ("B-2", "200")]),
    _label(
        "T5",
        "ambiguous",
        "amb_same_amount",
        [("C-1", "300")],
        expected_any=[[{"invoice_number": "C-1", "amount": "300"}], [{"invoice_number": "C-2", "amount": "300"}]],
    ),
    _label("T6", "noise", "card_payment"),
    _label("T7", "noise", "already_paid", flags=["already_paid"]),
]


def _perfect() -> list[dict[str, Any]]:
    return [
        _matched("T1", [("E-KERT-2025-12", "127000.00")]),  # trailing zeros do not matter
        _matched("T2", [("A-2", "5.5"), ("A-1", "10")]),  # nor does the order of allocations
        _matched("T3", [("FV 1/05/2025", "50.00")], ["partial_payment"]),
        _suggested("T4", [["B-1"], ["B-2", "B-1"]]),
        _suggested("T5", [["C-2"]]),
        _unmatched("T6"),
        _unmatched("T7", ["already_paid", "possible_duplicate"]),  # flags outside the core set are ignored
    ]


def test_perfect_results_meet_every_target() -> None:
    rep = score(LABELS, _perfect())
    assert (rep.automatic, rep.automatic_correct, rep.precision) == (3, 3, 1.0)
    assert rep.wrong == [] and rep.wrong_allocations == 0
    assert (rep.recall, rep.top3, rep.flag_accuracy) == (1.0, 1.0, 1.0)
    assert rep.flags_n == 5  # three correct unambiguous + two noise
    assert all(rep.targets.values())
    assert rep.warn_counts == {} and rep.missing == 0


def test_wrong_amount_and_noise_allocation_are_wrong_automatics() -> None:
    results = _perfect()
    results[0] = _matched("T1", [("E-KERT-2025-12", "126999")])
    results[5] = _matched("T6", [("E-KERT-2025-1", "12.00")])
    rep = score(LABELS, results)
    assert [(w.id, w.scenario) for w in rep.wrong] == [("T1", "ref_exact"), ("T6", "card_payment")]
    assert rep.wrong_allocations == 2 and rep.noise_auto == 1
    assert rep.precision == 2 / 4 and rep.recall == 2 / 3
    assert not rep.targets["zero wrong automatic allocations"]
    assert rep.scenarios["card_payment"].wrong == 1


def test_boundary_mistake_is_wrong_even_with_right_amount() -> None:
    rep = score(LABELS[:1], [_matched("T1", [("E-KERT-2025-1", "127000")])])
    assert len(rep.wrong) == 1 and rep.recall == 0.0


def test_top3_counts_only_the_first_three_candidates_and_any_option() -> None:
    results = _perfect()
    results[3] = _suggested("T4", [["X"], ["Y"], ["Z"], ["B-1", "B-2"]])
    results[4] = _suggested("T5", [["X"], ["C-1"]])
    rep = score(LABELS, results)
    assert rep.ambiguous_hits == 1 and rep.top3 == 0.5
    assert rep.scenarios["amb_combination"].hits == 0 and rep.scenarios["amb_same_amount"].hits == 1
    assert not rep.targets["top-3 hit rate on ambiguous >= 97%"]


def test_candidate_set_must_match_exactly() -> None:
    results = _perfect()
    results[3] = _suggested("T4", [["B-1"], ["B-1", "B-2", "B-3"]])
    assert score(LABELS, results).ambiguous_hits == 1  # only T5


def test_ambiguous_auto_matches_are_reported_separately() -> None:
    results = _perfect()
    results[3] = _matched("T4", [("B-1", "100"), ("B-2", "200")])
    results[4] = _matched("T5", [("C-3", "300")])
    rep = score(LABELS, results)
    assert (rep.ambiguous_auto, rep.ambiguous_auto_correct) == (2, 1)
    assert [w.id for w in rep.wrong] == ["T5"]
    assert rep.ambiguous_hits == 0


def test_flags_compare_only_core_flags() -> None:
    results = _perfect()
    results[2] = _matched("T3", [("FV 1/05/2025", "50.00")], ["overpayment"])
    results[6] = _unmatched("T7")
    rep = score(LABELS, results)
    assert rep.flags_ok == 3 and rep.flags_n == 5
    assert rep.flag_fn == {"partial_payment": 1, "already_paid": 1} and rep.flag_fp == {"overpayment": 1}


def test_missing_results_count_as_unmatched() -> None:
    rep = score(LABELS, [*_perfect()[1:], _unmatched("T99")])
    assert rep.missing == 1 and rep.extra == 1
    assert rep.unambiguous_matched == 2 and rep.recall == 2 / 3
    assert any("no result" in w for w in rep.warnings)


def test_contract_inconsistencies_are_warned() -> None:
    results = _perfect()
    results[5] = {**_unmatched("T6"), "status": "matched"}
    results[0] = {**results[0], "status": "suggested"}
    rep = score(LABELS, results)
    assert rep.warn_counts == {"status matched without allocations": 1, "allocations on a non-matched result": 1}
    assert rep.automatic == 3  # the allocations on T1 count, the empty "matched" T6 does not


def test_wrong_auto_after_a_missed_dependency_is_explained() -> None:
    labels = [
        _label("T1", "unambiguous", "ref_exact", [("A-1", "10")]),
        _label("T2", "noise", "duplicate_in_statement", flags=["already_paid"], depends_on="T1"),
    ]
    rep = score(labels, [_unmatched("T1"), _matched("T2", [("A-1", "10")])])
    assert rep.wrong[0].after_miss == "T1"
    assert "after the engine missed T1" in format_report(rep)


def test_report_text_has_table_and_targets() -> None:
    text = format_report(score(LABELS, _perfect()))
    assert "| ref_exact | unambiguous | 1 | 1 | 0 | 100.00% | 100.00% |" in text
    assert "[x] zero wrong automatic allocations" in text


def test_command_line_exit_status(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(rec) + "\n" for rec in LABELS), encoding="utf-8")
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"results": _perfect(), "summary": {}}), encoding="utf-8")
    bad.write_text(json.dumps({"results": _perfect()[:3], "summary": {}}), encoding="utf-8")
    assert main(["--labels", str(labels), "--results", str(good)]) == 0
    assert main(["--labels", str(labels), "--results", str(bad)]) == 1


def test_noise_is_scored_on_already_paid_only() -> None:
    results = _perfect()
    results[5] = _suggested("T6", [["X"]], ["partial_payment"])  # describes a suggestion, not an allocation
    rep = score(LABELS, results)
    assert rep.flag_accuracy == 1.0 and rep.flag_fp == {}


def test_recall_is_broken_down_by_writing_variant() -> None:
    labels = [
        _label("T1", "unambiguous", "ref_exact", [("A-1", "1")], variant="sepdot+lower"),
        _label("T2", "unambiguous", "ref_exact", [("A-2", "1")], variant="sepdot"),
    ]
    rep = score(labels, [_matched("T1", [("A-1", "1")]), _unmatched("T2")])
    assert rep.variants == {"sepdot": (2, 1), "lower": (1, 1)}
    assert "sepdot 50.00% of 2" in format_report(rep)
