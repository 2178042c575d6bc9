"""Stateless reconciliation of exported files: an invoice list and bank statements in, decisions out.

Touches no database: what an accountant holding two exports needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from core.domain import Invoice, Transaction
from core.invoicing.csv_file import read_invoices
from core.matching import MatchPolicy, MatchResult, MatchStatus, reconcile
from core.money import ZERO
from core.progress import Progress, no_progress
from core.statements import parse_statement
from core.statements.identity import dedupe_keys


@dataclass(frozen=True, slots=True)
class FileReconciliation:
    """The decisions for every transaction of the statements, and the invoices they were made against."""

    invoices: list[Invoice]
    transactions: list[Transaction]
    results: list[MatchResult]
    duplicates: int  # transactions present in more than one (overlapping) statement, counted once

    def open_after(self) -> dict[str, Decimal]:
        """Return each invoice's open amount (by invoice id) after the automatic allocations."""
        open_ = {inv.id: inv.open_amount for inv in self.invoices}
        for result in self.results:
            for allocation in result.allocations:
                open_[allocation.invoice_id] -= allocation.amount
        return open_

    def counts(self) -> dict[MatchStatus, int]:
        """Return how many transactions ended in each status."""
        counts = dict.fromkeys(MatchStatus, 0)
        for result in self.results:
            counts[result.status] += 1
        return counts

    def allocated(self) -> dict[str, Decimal]:
        """Return the money allocated automatically, per currency."""
        currency = {inv.id: inv.currency for inv in self.invoices}
        totals: dict[str, Decimal] = {}
        for result in self.results:
            for a in result.allocations:
                totals[currency[a.invoice_id]] = totals.get(currency[a.invoice_id], ZERO) + a.amount
        return totals


def reconcile_files(
    invoice_file: Path,
    statement_files: Sequence[Path],
    *,
    policy: MatchPolicy | None = None,
    progress: Progress = no_progress,
) -> FileReconciliation:
    """Read the files, match, and return the decisions.

    Raises InputError for the first bad file (nothing is matched then).
    A transaction that appears in two overlapping statements is matched once.
    """
    progress("Reading invoices", 0, 1)
    invoices = read_invoices(invoice_file)
    transactions: list[Transaction] = []
    seen: set[tuple[str, str]] = set()
    duplicates = 0
    for n, path in enumerate(statement_files):
        progress("Reading statements", n, len(statement_files))
        statement = parse_statement(path)
        for tx, key in zip(statement.transactions, dedupe_keys(statement.transactions), strict=True):
            if (tx.account_iban, key) in seen:
                duplicates += 1
                continue
            seen.add((tx.account_iban, key))
            transactions.append(tx)
    results = reconcile(
        transactions, invoices, policy=policy, on_progress=lambda done: progress("Matching", done, len(transactions))
    )
    return FileReconciliation(invoices, transactions, results, duplicates)
