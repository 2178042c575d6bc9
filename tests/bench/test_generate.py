"""Smoke test of the benchmark generator: a small data set is internally consistent.

The checks re-derive everything from the written files (not from the
generator's memory): the ledger is replayed from invoices.csv in booking
order, payer groups are rebuilt from partner names, mentions are found again
by a referee built from invoices.csv.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bench.context import Settings
from bench.generate import generate
from bench.ledger import count_subsets
from bench.names import name_tokens
from bench.partners import iban_valid
from bench.refindex import RefIndex
from bench.writer import INVOICE_HEADER, STATEMENT_HEADER

REPO = Path(__file__).resolve().parents[2]
AMOUNT_ONLY = {"payer_iban_amount", "payer_name_amount", "iban_learned"}
UNKNOWN_PAYER = {"amb_unknown_payer", "unknown_amount_collision", "numberlike_text"}
NO_MENTION = {
    "card_payment",
    "tax",
    "salary",
    "bank_fee",
    "interest",
    "own_transfer",
    "numberlike_text",
    "unknown_amount_collision",
    "amb_unknown_payer",
    "amb_combination",
    "amb_same_amount",
    "amb_partial_no_ref",
    *AMOUNT_ONLY,
}
SETTLED_REF = {"already_paid": "paid", "duplicate_in_statement": "paid", "cancelled_ref": "cancelled"}


@dataclass
class Row:
    """An invoice as invoices.csv states it, plus its replayed open amount."""

    idx: int
    data: dict[str, str]
    flow: int
    open: Decimal
    tokens: tuple[str, ...]

    @property
    def number(self) -> str:
        return self.data["number"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "data"
    generate(Settings(transactions=2500, invoices=5000, seed=11), out)
    return out


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def _invoices(data: Path) -> list[Row]:
    rows = []
    for k, r in enumerate(_rows(data / "invoices.csv")):
        gross, paid = Decimal(r["gross_amount"]), Decimal(r["paid_amount"])
        flow = 1 if (r["direction"] == "issued") == (gross > 0) else -1
        open_ = Decimal(0) if r["status"] in ("paid", "cancelled") else abs(gross) - abs(paid)
        rows.append(Row(k, r, flow, open_, name_tokens(r["partner_name"])))
    return rows


def _related(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return set(a) <= set(b) or set(b) <= set(a)


def test_headers_are_exact(dataset: Path) -> None:
    for name, header in (("invoices.csv", INVOICE_HEADER), ("statement.csv", STATEMENT_HEADER)):
        with (dataset / name).open(encoding="utf-8") as fh:
            assert fh.readline().rstrip("\n").split(",") == header


def test_invoices_follow_the_contract(dataset: Path) -> None:
    rows = _invoices(dataset)
    numbers = Counter(r.number for r in rows)
    for r in rows:
        d = r.data
        assert d["direction"] in ("issued", "received") and d["currency"] in ("HUF", "PLN", "EUR")
        assert d["kind"] in ("invoice", "proforma", "advance", "credit_note")
        assert d["status"] in ("issued", "partially_paid", "paid", "cancelled")
        gross, paid = Decimal(d["gross_amount"]), Decimal(d["paid_amount"])
        assert (gross < 0) == (d["kind"] == "credit_note")
        assert abs(paid) <= abs(gross) and (paid == 0 or (paid > 0) == (gross > 0))
        places = 0 if d["currency"] == "HUF" else 2
        assert -gross.as_tuple().exponent == places, d  # type: ignore[operator]
        assert not d["partner_iban"] or iban_valid(d["partner_iban"])
        assert d["issue_date"] <= d["due_date"]
        if numbers[r.number] > 1:  # only suppliers' own numbers repeat
            assert d["direction"] == "received"
    series = {n.rsplit("-", 1)[0] for n in numbers if n.startswith("E-") and n.count("-") == 3}
    assert any({f"{s}-1", f"{s}-12", f"{s}-120"} <= set(numbers) for s in series), "near-collisions expected"


def test_labels_are_consistent_with_a_replayed_ledger(dataset: Path) -> None:
    rows = _invoices(dataset)
    by_number: dict[str, list[Row]] = {}
    for r in rows:
        by_number.setdefault(r.number, []).append(r)
    refs = RefIndex()
    for r in rows:
        refs.add_invoice(r.idx, r.number)
        if r.data["order_number"]:
            refs.add_order(r.idx, r.data["order_number"])
    invoice_ibans = {r.data["partner_iban"] for r in rows if r.data["partner_iban"]}
    partner_tokens = {r.tokens for r in rows}
    labels = [json.loads(line) for line in (dataset / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    txs = list(_rows(dataset / "statement.csv"))
    assert [t["id"] for t in txs] == [lb["id"] for lb in labels]
    assert [t["booking_date"] for t in txs] == sorted(t["booking_date"] for t in txs)
    known_ibans = set(invoice_ibans)
    for t, lb in zip(txs, labels, strict=True):
        if lb["expected"] and lb["scenario"] not in UNKNOWN_PAYER:
            known_ibans.add(t["counterparty_iban"])
    categories: Counter[str] = Counter()
    for t, lb in zip(txs, labels, strict=True):
        categories[lb["category"]] += 1
        _check_one(t, lb, rows, by_number, refs, known_ibans, partner_tokens)
    assert set(categories) == {"unambiguous", "ambiguous", "noise"}
    assert categories["unambiguous"] > 0.6 * len(txs)


def _group(rows: list[Row], target: Row) -> list[Row]:
    return [
        r
        for r in rows
        if r.tokens == target.tokens
        and r.open > 0
        and r.data["currency"] == target.data["currency"]
        and r.flow == target.flow
    ]


def _check_one(
    t: dict[str, str],
    lb: dict[str, Any],
    rows: list[Row],
    by_number: dict[str, list[Row]],
    refs: RefIndex,
    known_ibans: set[str],
    partner_tokens: set[tuple[str, ...]],
) -> None:
    amount = Decimal(t["amount"])
    flow = 1 if amount > 0 else -1
    scenario, category = lb["scenario"], lb["category"]
    assert category in ("unambiguous", "ambiguous", "noise")
    assert set(lb["expected_flags"]) <= {"partial_payment", "overpayment", "already_paid"}
    assert t["value_date"] <= t["booking_date"]
    assert not t["counterparty_iban"] or iban_valid(t["counterparty_iban"])
    mentions = refs.scan(t["reference"], t["end_to_end_id"])
    if category == "noise":
        assert lb["expected"] == [] and "expected_any" not in lb
    else:
        assert lb["expected"], lb
    if scenario in NO_MENTION:
        assert not mentions.invoices and not mentions.orders, (t, lb)
    if scenario in UNKNOWN_PAYER:
        assert t["counterparty_iban"] not in known_ibans
        tokens = name_tokens(t["counterparty_name"])
        assert not any(_related(tokens, p) for p in partner_tokens), t["counterparty_name"]
    if scenario in SETTLED_REF:
        settled = [rows[k] for k in mentions.invoices if rows[k].flow == flow]
        assert settled and all(r.open == 0 for r in settled), (t, lb)
        assert all(r.data["status"] == "cancelled" for r in settled) == (SETTLED_REF[scenario] == "cancelled")
    options = lb.get("expected_any") or [lb["expected"]]
    targets: list[list[Row]] = []
    for option in options:
        chosen = []
        for e in option:
            cands = [
                r
                for r in by_number.get(e["invoice_number"], [])
                if r.flow == flow and r.data["currency"] == t["currency"] and r.open >= Decimal(e["amount"])
            ]
            if len(cands) > 1:
                cands = [r for r in cands if r.data["partner_iban"] == t["counterparty_iban"]] or cands
            assert cands, (t, lb, e)
            chosen.append(cands[0])
        targets.append(chosen)
    paid = sum((Decimal(e["amount"]) for e in lb["expected"]), Decimal(0))
    named = {k for k in mentions.invoices if rows[k].flow == flow}
    if category == "unambiguous":
        _check_unambiguous(t, lb, targets[0], rows, named, mentions.orders, abs(amount), paid)
    elif category == "ambiguous":
        _check_ambiguous(lb, targets, rows, abs(amount))
        wanted = {r.idx for r in targets[0]}
        if scenario == "amb_multi_mismatch":
            assert named == wanted, (t, lb)
        elif scenario == "amb_ref_typo":
            assert len(named) == 1 and not named & wanted, (t, lb)
            assert rows[min(named)].tokens != targets[0][0].tokens


def _check_unambiguous(
    t: dict[str, str],
    lb: dict[str, Any],
    target: list[Row],
    rows: list[Row],
    inv_mentions: set[int],
    order_mentions: set[int],
    amount: Decimal,
    paid: Decimal,
) -> None:
    flags, scenario = set(lb["expected_flags"]), lb["scenario"]
    assert (paid < amount) if "overpayment" in flags else (paid == amount), (t, lb)
    if "partial_payment" in flags:
        assert target[0].open > paid
    if scenario == "order_number":
        assert order_mentions == {target[0].idx}
    elif scenario not in AMOUNT_ONLY:
        wanted = {r.idx for r in target}
        assert wanted <= inv_mentions, (t, lb)
        # Anything else named must be the same number string of another supplier (payee decides).
        numbers = {r.number for r in target}
        assert all(rows[k].number in numbers for k in inv_mentions - wanted), (t, lb)
    else:
        group = _group(rows, target[0])
        assert len(target) == 1 and count_subsets((r.open for r in group), amount, cap=2) == 1, (t, lb)
    if scenario == "payer_name_amount":
        assert name_tokens(t["counterparty_name"]) == target[0].tokens
    if scenario == "payer_iban_amount":
        assert any(r.data["partner_iban"] == t["counterparty_iban"] and r.tokens == target[0].tokens for r in rows)
    for r, e in zip(target, lb["expected"], strict=True):
        r.open -= Decimal(e["amount"])


def _check_ambiguous(lb: dict[str, Any], targets: list[list[Row]], rows: list[Row], amount: Decimal) -> None:
    scenario, first = lb["scenario"], targets[0]
    group = _group(rows, first[0])
    if scenario == "amb_combination":
        assert len(first) > 1 and count_subsets((r.open for r in group), amount, cap=2) == 1
        assert sum(r.open for r in first) == amount
    elif scenario == "amb_same_amount":
        assert len(targets) == 2 and count_subsets((r.open for r in group), amount, cap=3) == 2
    elif scenario == "amb_partial_no_ref":
        assert [r.idx for r in group] == [first[0].idx] and amount < first[0].open
    elif scenario == "amb_unknown_payer":
        same = [
            r
            for r in rows
            if r.open == amount and r.flow == first[0].flow and r.data["currency"] == first[0].data["currency"]
        ]
        assert same == first
    elif scenario == "amb_multi_mismatch":
        assert amount < sum(r.open for r in first) and count_subsets((r.open for r in group), amount, cap=1) == 0


def test_same_seed_same_bytes_whatever_the_hash_seed(dataset: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONHASHSEED": "4242", "PYTHONPATH": str(REPO)}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.generate",
            "--transactions",
            "2500",
            "--invoices",
            "5000",
            "--seed",
            "11",
            "--out",
            str(tmp_path / "again"),
        ],
        check=True,
        env=env,
        cwd=REPO,
        capture_output=True,
    )
    for name in ("invoices.csv", "statement.csv", "labels.jsonl"):
        assert (tmp_path / "again" / name).read_bytes() == (dataset / name).read_bytes(), name


def test_another_seed_gives_other_data(dataset: Path, tmp_path: Path) -> None:
    generate(Settings(transactions=200, invoices=400, seed=12), tmp_path / "other")
    assert (tmp_path / "other" / "statement.csv").read_bytes()[:2000] != (dataset / "statement.csv").read_bytes()[:2000]
