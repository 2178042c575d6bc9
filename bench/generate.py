"""Generate a labelled benchmark data set.

    python -m bench.generate --transactions 100000 --invoices 200000 --seed 1 --out DIR

writes ``DIR/invoices.csv`` (the state before the statement), ``DIR/statement.csv``
(generic statement CSV, booking order), ``DIR/labels.jsonl`` (one label per
transaction) and ``DIR/manifest.json`` (settings and realised scenario counts).

Labels are correct by construction: the generator walks the statement in
booking order keeping the ledger a correct engine would keep (only automatic
allocations are booked), checks every amount condition against the payer's
open invoices at that point (exhaustive subset sums), and accepts a remittance
text only when ``bench.refindex`` finds exactly the intended invoices in it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from bisect import bisect
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

from bench.context import Ctx, Settings
from bench.invoices import make_invoices
from bench.ledger import GROUP_CAP, Ledger
from bench.model import ZERO, Txn
from bench.partners import make_partners, make_workspace
from bench.refindex import RefIndex
from bench.scen_noise import card_payment
from bench.scenarios import BY_NAME, DEFAULT_WEIGHTS, SCENARIOS, parse_weights
from bench.writer import StatementWriter, write_invoices

GENERATOR_VERSION = 2  # bump when the same seed would produce different data


def build_world(cfg: Settings) -> Ctx:
    """Return a generation context with partners, invoices, ledger, pools and referee ready."""
    rng = random.Random(cfg.seed)
    ws = make_workspace(rng, cfg.country)
    n_partners = max(40, cfg.invoices // 8)
    n_suppliers = max(5, n_partners // 10)
    partners, name_index = make_partners(rng, n_partners - n_suppliers, n_suppliers, ws)
    invoices = make_invoices(rng, ws, partners, cfg.invoices, cfg.start, cfg.days)
    refs = RefIndex()
    by_number: dict[str, list[int]] = {}
    for inv in invoices:
        refs.add_invoice(inv.idx, inv.number)
        by_number.setdefault(inv.number, []).append(inv.idx)
        if inv.order:
            refs.add_order(inv.idx, inv.order)
    ledger = Ledger(invoices, partners)
    ctx = Ctx(cfg, rng, ws, partners, name_index, ledger, refs, by_number)
    _add_pools(ledger, ctx.iban_seen)
    return ctx


def _add_pools(ledger: Ledger, iban_seen: set[int]) -> None:
    """Create the invoice pools scenarios draw from, in one pass.

    ``small`` means the payer group (cluster, currency, flow) has at most
    GROUP_CAP open invoices, so exhaustive subset checks are cheap; groups only
    shrink during the statement, so this stays true.
    """
    partners = ledger.partners
    sizes = {key: len(members) for key, members in ledger.groups.items()}
    amounts: Counter[tuple[int, str, int, Decimal]] = Counter(
        (i.cluster, i.currency, i.flow, i.open) for i in ledger.inv if i.open > ZERO
    )
    names = (
        "iss",
        "iss_small",
        "iss_eur",
        "iss_pln_co",
        "iban_known",
        "iban_unknown",
        "name_clean",
        "twins",
        "single_open",
        "order",
        "proforma",
        "credit",
        "recv",
        "paid",
        "cancelled",
    )
    pools: dict[str, list[int]] = {name: [] for name in names}
    for i in ledger.inv:
        k = i.idx
        if i.direction == "received":
            if i.gross > ZERO and i.open > ZERO:
                pools["recv"].append(k)
            continue
        if i.gross < ZERO:
            if i.kind == "credit_note" and i.open > ZERO:
                pools["credit"].append(k)
            continue
        if i.status0 == "cancelled":
            pools["cancelled"].append(k)
        elif i.status0 == "paid" and i.kind == "invoice":
            pools["paid"].append(k)
        if i.open <= ZERO:
            continue
        if i.order:
            pools["order"].append(k)
        if i.kind == "proforma":
            pools["proforma"].append(k)
            continue
        p = partners[i.partner]
        pools["iss"].append(k)
        if i.currency == "PLN" and p.tax_id:
            pools["iss_pln_co"].append(k)
        size = sizes[(i.cluster, i.currency, i.flow)]
        if size > GROUP_CAP:
            continue
        pools["iss_small"].append(k)
        if i.currency == "EUR":
            pools["iss_eur"].append(k)
        seen = i.partner in iban_seen
        pools["iban_known" if seen else "iban_unknown"].append(k)
        if p.name_clean:
            pools["name_clean"].append(k)
        if seen or p.name_clean:
            if amounts[(i.cluster, i.currency, i.flow, i.open)] == 2:
                pools["twins"].append(k)
            if size == 1:
                pools["single_open"].append(k)
    for name, items in pools.items():
        ledger.add_pool(name, items)  # built in index order, which is issue-date order


def _next(ctx: Ctx, names: list[str], cum: list[float]) -> Txn:
    """Return the transaction for the current slot: a due follow-up, else a fresh scenario."""
    fn = ctx.due()
    while fn is not None:
        txn = fn(ctx)
        if txn is not None:
            return txn
        fn = ctx.due()
    for _ in range(12):
        name = names[min(bisect(cum, ctx.rng.random() * cum[-1]), len(names) - 1)]
        build = BY_NAME[name].build
        # Retry the same scenario first, so that its realised share stays near its weight.
        for _ in range(6):
            txn = build(ctx)
            if txn is not None:
                return txn
    return card_payment(ctx)  # always possible; only reached when the data is exhausted


def generate(cfg: Settings, out: Path) -> dict[str, object]:
    """Write the data set for ``cfg`` into ``out`` and return the manifest (also written as manifest.json)."""
    began = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    ctx = build_world(cfg)
    write_invoices(out / "invoices.csv", ctx.inv, ctx.partners)
    weights = {**DEFAULT_WEIGHTS, **cfg.weights}
    names = [s.name for s in SCENARIOS if weights[s.name] > 0]
    cum: list[float] = []
    for name in names:
        cum.append((cum[-1] if cum else 0.0) + weights[name])
    counts: Counter[tuple[str, str]] = Counter()
    with StatementWriter(out) as writer:
        for slot in range(cfg.transactions):
            ctx.slot, ctx.day = slot, ctx.date_of(slot)
            txn = _next(ctx, names, cum)
            writer.add(ctx.txn_id(), ctx.day, txn)
            counts[(txn.category, txn.scenario)] += 1
    manifest: dict[str, object] = {
        "generator_version": GENERATOR_VERSION,
        "transactions": cfg.transactions,
        "invoices": cfg.invoices,
        "seed": cfg.seed,
        "country": cfg.country,
        "start": cfg.start.isoformat(),
        "days": cfg.days,
        "weights": weights,
        "categories": dict(sorted(_by_category(counts).items())),
        "scenarios": {f"{c}/{s}": n for (c, s), n in sorted(counts.items())},
        "seconds": round(time.perf_counter() - began, 2),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _by_category(counts: Counter[tuple[str, str]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for (category, _), n in counts.items():
        out[category] += n
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    ap = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--transactions", type=int, default=10000)
    ap.add_argument("--invoices", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, help="output directory (required unless --list-scenarios)")
    ap.add_argument(
        "--country",
        choices=("mixed", "HU", "PL"),
        default="mixed",
        help="workspace: Hungarian, Polish, or Hungarian with a Polish branch (default)",
    )
    ap.add_argument("--start", type=date.fromisoformat, default=date(2025, 3, 1), help="first booking date")
    ap.add_argument("--days", type=int, default=122, help="length of the statement period")
    ap.add_argument("--weights", default="", help="override scenario weights, e.g. 'ref_exact=30,card_payment=0'")
    ap.add_argument("--list-scenarios", action="store_true", help="print scenarios and default weights, then exit")
    args = ap.parse_args(argv)
    if args.list_scenarios:
        for s in SCENARIOS:
            print(f"{s.category:12} {s.name:26} {s.weight:5}")
        return 0
    if args.out is None:
        ap.error("--out is required")
    if args.transactions < 1 or args.invoices < 10:
        ap.error("need at least 1 transaction and 10 invoices")
    try:
        weights = parse_weights(args.weights)
    except ValueError as exc:
        ap.error(str(exc))
    cfg = Settings(args.transactions, args.invoices, args.seed, args.country, args.start, args.days, weights)
    manifest = generate(cfg, args.out)
    print(f"wrote {args.out} in {manifest['seconds']} s: {manifest['categories']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
