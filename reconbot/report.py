"""Rendering decisions for people and programs: JSON (the fixed contract), CSV and a table."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from core.domain import Invoice, Transaction
from core.matching import MatchResult, MatchStatus
from core.money import ZERO, format_amount, format_money
from core.services.file_reconciliation import FileReconciliation


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
                # A JSON number; the shortest float repr of 0.85 prints as 0.85 exactly.
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
    still_open = _still_open(run.invoices, run.open_after)
    open_amounts: dict[str, Decimal] = {}
    for inv, amount in still_open:
        key = f"{inv.direction.value} {inv.currency}"
        open_amounts[key] = open_amounts.get(key, ZERO) + amount
    return {
        "transactions": len(run.results),
        "duplicates_skipped": run.duplicates,
        **{status.value: counts[status] for status in MatchStatus},
        "allocations": sum(len(r.allocations) for r in run.results),
        "allocated": {cur: format_amount(v) for cur, v in sorted(run.allocated().items())},
        "flags": dict(sorted(flags.items())),
        "open_invoices": len(still_open),
        "open_amount": {k: format_amount(v) for k, v in sorted(open_amounts.items())},
    }


def write_json(run: FileReconciliation, out: TextIO) -> None:
    """Write the whole run as the JSON document of the ``reconcile`` contract, one result per line.

    Written piece by piece, so a run of 100,000 transactions never holds its whole text in memory.
    """
    out.write('{"results": [\n')
    for n, result in enumerate(run.results):
        out.write(("," if n else "") + json.dumps(result_json(result), ensure_ascii=False) + "\n")
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
            sure = str(r.confidence)
            for a in r.allocations:
                writer.writerow(
                    (r.transaction_id, r.status.value, 1, a.invoice_number, format_amount(a.amount), sure, flags, why)
                )
            continue
        if not r.candidates:
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
                        str(c.confidence),
                        flags,
                        why,
                    )
                )


def write_table(run: FileReconciliation, locale: str, console: Console) -> None:
    """Print the decisions and the invoices still open as tables."""
    table = Table(title="Who paid what", show_lines=False)
    for column in ("Transaction", "Booked", "Amount", "Payer", "Status", "Invoices", "Sure", "Notes"):
        table.add_column(column, overflow="fold")
    for tx, r in zip(run.transactions, run.results, strict=True):
        table.add_row(*_row(tx, r, locale))
    console.print(table)
    still_open = _still_open(run.invoices, run.open_after)
    if still_open:
        open_table = Table(title="Still open")
        for column in ("Invoice", "Direction", "Partner", "Due", "Open"):
            open_table.add_column(column)
        for inv, amount in still_open[:50]:
            due = inv.due_date.isoformat() if inv.due_date else ""
            open_table.add_row(
                inv.number, inv.direction.value, inv.partner_name, due, format_money(amount, inv.currency, locale)
            )
        console.print(open_table)
        if len(still_open) > 50:
            console.print(f"… and {len(still_open) - 50} more open invoices")
    counts = run.counts()
    console.print(", ".join(f"{counts[s]} {s.value}" for s in MatchStatus))


def _row(tx: Transaction, r: MatchResult, locale: str) -> tuple[str, ...]:
    if r.allocations:
        invoices = ", ".join(
            f"{a.invoice_number} ({format_money(a.amount, tx.currency, locale)})" for a in r.allocations
        )
        sure = f"{r.confidence:.0%}"
    elif r.candidates:
        invoices = " | ".join(", ".join(c.invoice_numbers) for c in r.candidates[:3]) + " ?"
        sure = f"{r.candidates[0].confidence:.0%}"
    else:
        invoices, sure = "", ""
    notes = ", ".join(f.value for f in r.flags)
    payer = tx.counterparty_name or tx.counterparty_iban
    return (
        tx.id,
        tx.booking_date.isoformat(),
        format_money(tx.amount, tx.currency, locale),
        payer,
        r.status.value,
        invoices,
        sure,
        notes,
    )


def _still_open(invoices: Sequence[Invoice], open_after: Sequence[Decimal]) -> list[tuple[Invoice, Decimal]]:
    rows = [(inv, amount) for inv, amount in zip(invoices, open_after, strict=True) if amount > ZERO]
    rows.sort(key=lambda row: (row[0].due_date or date.max, row[0].number))
    return rows
