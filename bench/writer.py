"""Streaming writers for invoices.csv, statement.csv and labels.jsonl."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO

from bench.model import Inv, Partner, Txn, fmt

INVOICE_HEADER = [
    "number",
    "direction",
    "kind",
    "partner_name",
    "partner_tax_id",
    "partner_iban",
    "order_number",
    "issue_date",
    "due_date",
    "gross_amount",
    "currency",
    "paid_amount",
    "status",
]
STATEMENT_HEADER = [
    "id",
    "booking_date",
    "value_date",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_iban",
    "reference",
    "end_to_end_id",
]


def write_invoices(path: Path, invoices: list[Inv], partners: list[Partner]) -> None:
    """Write the invoices as they stand before the statement (the contract's INVOICES.csv)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(INVOICE_HEADER)
        for i in invoices:
            p = partners[i.partner]
            w.writerow(
                (
                    i.number,
                    i.direction,
                    i.kind,
                    p.name,
                    p.tax_id,
                    p.iban if i.iban_on else "",
                    i.order,
                    i.issue.isoformat(),
                    i.due.isoformat(),
                    fmt(i.gross, i.currency),
                    i.currency,
                    fmt(i.paid0, i.currency),
                    i.status0,
                )
            )


def label_record(tid: str, t: Txn) -> dict[str, object]:
    """Return the labels.jsonl record of transaction ``tid``."""
    rec: dict[str, object] = {
        "id": tid,
        "category": t.category,
        "scenario": t.scenario,
        "expected": [{"invoice_number": n, "amount": fmt(a, t.currency)} for n, a in t.expected],
        "expected_flags": sorted(t.flags),
    }
    if t.expected_any is not None:
        rec["expected_any"] = [
            [{"invoice_number": n, "amount": fmt(a, t.currency)} for n, a in option] for option in t.expected_any
        ]
    if t.variant:
        rec["variant"] = t.variant
    if t.depends_on:
        rec["depends_on"] = t.depends_on
    return rec


class StatementWriter:
    """Writes statement rows and their labels as they are generated."""

    def __init__(self, out: Path) -> None:
        self._stmt: IO[str] = (out / "statement.csv").open("w", newline="", encoding="utf-8")
        self._labels: IO[str] = (out / "labels.jsonl").open("w", encoding="utf-8")
        self._csv = csv.writer(self._stmt, lineterminator="\n")
        self._csv.writerow(STATEMENT_HEADER)

    def add(self, tid: str, booking: date, t: Txn) -> None:
        """Write transaction ``t`` booked on ``booking`` and its label."""
        value = booking - timedelta(days=t.value_lag)
        self._csv.writerow(
            (
                tid,
                booking.isoformat(),
                value.isoformat(),
                fmt(t.amount, t.currency),
                t.currency,
                t.name,
                t.iban,
                t.reference,
                t.e2e,
            )
        )
        self._labels.write(json.dumps(label_record(tid, t), ensure_ascii=False) + "\n")

    def close(self) -> None:
        """Flush and close both files."""
        self._stmt.close()
        self._labels.close()

    def __enter__(self) -> StatementWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
