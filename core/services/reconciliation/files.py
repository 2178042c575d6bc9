"""Stateless reconciliation of exported files: an invoice list and bank statements in, decisions out.

Touches no database: what an accountant holding two exports needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from reconbot.core.domain import Invoice, Transaction
from reconbot.core.forking import in_child
from reconbot.core.invoicing.csv_file import read_invoice_numbers, read_invoices
from reconbot.core.matching import MatchingEngine, MatchPolicy, MatchResult, MatchStatus
from reconbot.core.matching.references import ReferenceIndex
from reconbot.core.money import ZERO
from reconbot.core.progress import Progress, no_progress
from reconbot.core.statements import parse_statement
from reconbot.core.statements.identity import dedupe_keys


@dataclass(frozen=True, slots=True)
class FileReconciliation:
    """The decisions for every transaction of the statements, and the invoices they were made against.

    ``open_after`` is each invoice's open amount after the automatic allocations,
    in the order of ``invoices``.
    """

    invoices: list[Invoice]
    transactions: list[Transaction]
    results: list[MatchResult]
    open_after: list[Decimal]
    duplicates: int  # transactions present in more than one (overlapping) statement, counted once

    def counts(self) -> dict[MatchStatus, int]:
        """Return how many transactions ended in each status."""
        counts = dict.fromkeys(MatchStatus, 0)
        for result in self.results:
            counts[result.status] += 1
        return counts

    def allocated(self) -> dict[str, Decimal]:
        """Return the money allocated automatically, keyed ``in HUF``, ``out PLN`` … (received, paid out)."""
        totals: dict[str, Decimal] = {}
        for tx, result in zip(self.transactions, self.results, strict=True):
            if result.allocations:
                key = f"{'in' if tx.amount > ZERO else 'out'} {tx.currency}"
                totals[key] = totals.get(key, ZERO) + sum((a.amount for a in result.allocations), ZERO)
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
    data = invoice_file.read_bytes()
    # Indexing 200,000 invoice numbers takes seconds; a second core does it while this one reads.
    index_in_child = in_child(lambda: ReferenceIndex.of_numbers(read_invoice_numbers(invoice_file, data)).dumps())
    try:
        progress("Reading invoices", 0, 1)
        invoices = read_invoices(invoice_file, data)
        transactions, duplicates = _read_statements(statement_files, progress)
    except BaseException:
        if index_in_child:
            index_in_child.cancel()  # a bad file ends the run; the index is not needed
        raise
    index_bytes = index_in_child.result() if index_in_child else None
    references = ReferenceIndex.loads(index_bytes) if index_bytes else None
    engine = MatchingEngine(invoices, policy=policy, references=references)
    results = engine.match_all(transactions, on_progress=lambda done: progress("Matching", done, len(transactions)))
    return FileReconciliation(invoices, transactions, results, list(engine.ledger.open), duplicates)


def _read_statements(paths: Sequence[Path], progress: Progress) -> tuple[list[Transaction], int]:
    if len(paths) == 1:
        progress("Reading statements", 0, 1)
        return list(parse_statement(paths[0]).transactions), 0  # one file holds no transaction twice
    transactions: list[Transaction] = []
    seen: set[tuple[str, str]] = set()
    duplicates = 0
    for n, path in enumerate(paths):
        progress("Reading statements", n, len(paths))
        statement = parse_statement(path)
        for tx, key in zip(statement.transactions, dedupe_keys(statement.transactions), strict=True):
            if (tx.account_iban, key) in seen:
                duplicates += 1
                continue
            seen.add((tx.account_iban, key))
            transactions.append(tx)
    return transactions, duplicates
