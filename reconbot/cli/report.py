"""The ``reconcile`` output: JSON (a fixed contract other tools read), CSV, and rows for the tables."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

import orjson

from reconbot.cli.tables import OpenRow, PaymentRow
from reconbot.core.matching import MatchResult, MatchStatus
from reconbot.core.money import ZERO, format_amount
from reconbot.core.services.reconciliation.files import FileReconciliation


def result_json(result: MatchResult) -> dict[str, Any]:
    """Return one decision in the ``reconcile --format json`` shape."""
    out: dict[str, Any] = {
        "transaction_id": result.transaction_id,
        "status": result.status.value,
        "allocations": [
            {"invoice_number": a.invoice_number, "amount": format_amount(a.amount)} for a in result.allocations
        ],
        "candidates": [
            {
                "invoice_numbers": list(c.invoice_numbers),
                "amounts": [format_amount(a.amount) for a in c.allocations],
                # A JSON number; 0.85 as a float prints as 0.85 exactly.
                "confidence": float(c.confidence),
                "reasons": [r.text for r in c.reasons],
            }
            for c in result.candidates
        ],
        "flags": [f.value for f in result.flags],
        "reasons": [r.text for r in result.reasons],
        "confidence": float(result.confidence),
    }
    if result.surplus > ZERO:
        out["unallocated"] = format_amount(result.surplus)
    return out


def summary_json(run: FileReconciliation) -> dict[str, Any]:
    """Return the ``summary`` object: counts, money allocated and what is still open, per currency."""
    counts = run.counts()
    flags: dict[str, int] = {}
    for result in run.results:
        for flag in result.flags:
            flags[flag.value] = flags.get(flag.value, 0) + 1
    open_count = 0
    open_amounts: dict[str, Decimal] = {}
    for inv, amount in zip(run.invoices, run.open_after, strict=True):
        if amount > ZERO:
            key = f"{inv.direction.value} {inv.currency}"
            open_amounts[key] = open_amounts.get(key, ZERO) + amount
            open_count += 1
    return {
        "transactions": len(run.results),
        "duplicates_skipped": run.duplicates,
        **{status.value: counts[status] for status in MatchStatus},
        "allocations": sum(len(r.allocations) for r in run.results),
        "allocated": {cur: format_amount(v) for cur, v in sorted(run.allocated().items())},
        "flags": dict(sorted(flags.items())),
        "open_invoices": open_count,
        "open_amount": {k: format_amount(v) for k, v in sorted(open_amounts.items())},
    }


def write_json(run: FileReconciliation, out: TextIO) -> None:
    """Write the run as the JSON document of the ``reconcile`` contract, one result per line.

    Written piece by piece, so a run of 100,000 transactions never holds its whole text in memory.
    """
    out.write('{"results": [\n')
    for n, result in enumerate(run.results):
        # orjson: a third of the time of json.dumps, which matters at 100,000 results.
        out.write(("," if n else "") + orjson.dumps(result_json(result)).decode() + "\n")
    out.write('],\n"summary": ' + json.dumps(summary_json(run), ensure_ascii=False, indent=1) + "}\n")


CSV_COLUMNS = ("transaction_id", "status", "rank", "invoice_number", "amount", "confidence", "flags", "reasons")


def write_csv(run: FileReconciliation, out: TextIO) -> None:
    """Write one row per allocation (matched), per candidate invoice (suggested) or per transaction (unmatched)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in run.results:
        flags = " ".join(f.value for f in r.flags)
        if r.allocations:
            why = "; ".join(x.text for x in r.reasons)
            for a in r.allocations:
                writer.writerow(
                    (
                        r.transaction_id,
                        r.status.value,
                        1,
                        a.invoice_number,
                        format_amount(a.amount),
                        r.confidence,
                        flags,
                        why,
                    )
                )
        elif not r.candidates:
            writer.writerow(
                (r.transaction_id, r.status.value, "", "", "", "", flags, "; ".join(x.text for x in r.reasons))
            )
        for rank, c in enumerate(r.candidates, 1):
            why = "; ".join(x.text for x in c.reasons)
            for a in c.allocations:
                writer.writerow(
                    (
                        r.transaction_id,
                        r.status.value,
                        rank,
                        a.invoice_number,
                        format_amount(a.amount),
                        c.confidence,
                        flags,
                        why,
                    )
                )


def payment_rows(run: FileReconciliation) -> list[PaymentRow]:
    """Return the run's decisions as table rows, in the statements' order."""
    rows = []
    for tx, r in zip(run.transactions, run.results, strict=True):
        if r.allocations:
            invoices = ", ".join(a.invoice_number for a in r.allocations)
        else:
            invoices = " + ".join(r.candidates[0].invoice_numbers) if r.candidates else ""
        rows.append(
            PaymentRow(
                tx.id,
                tx.booking_date,
                tx.amount,
                tx.currency,
                tx.counterparty_name or tx.counterparty_iban,
                r.status.value,
                invoices,
                r.confidence or None,
                [f.value for f in r.flags],
            )
        )
    return rows


def open_rows(run: FileReconciliation) -> list[OpenRow]:
    """Return the invoices still open after the run, due first."""
    rows = [
        OpenRow(inv.number, inv.direction.value, inv.partner_name, inv.due_date, amount, inv.currency)
        for inv, amount in zip(run.invoices, run.open_after, strict=True)
        if amount > ZERO
    ]
    rows.sort(key=lambda row: (row.due or date.max, row.number))
    return rows
