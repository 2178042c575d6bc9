"""The two tables people read: who paid what, and what is still open."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from reconbot.core.money import format_money

_STATUS = {"matched": "[green]✓[/]", "suggested": "[yellow]?[/]", "unmatched": "[red]–[/] no match",
           "ignored": "[dim]set aside[/]"}  # fmt: skip
_FLAGS = {
    "partial_payment": "partial payment",
    "overpayment": "overpaid",
    "already_paid": "already paid: paid twice?",
    "cancelled_invoice": "quotes a cancelled invoice",
    "possible_bank_fee": "bank fee deducted?",
    "proforma_paid": "proforma paid: final invoice due",
    "payer_mismatch": "paid by someone else",
}


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """One transaction as the table shows it."""

    ref: str
    booked: date
    amount: Decimal
    currency: str
    party: str
    status: str
    invoices: str  # what it was paired with, or the best suggestion
    confidence: Decimal | None
    flags: Sequence[str]


@dataclass(frozen=True, slots=True)
class OpenRow:
    """One invoice still waiting for money."""

    number: str
    direction: str
    partner: str
    due: date | None
    amount: Decimal
    currency: str


def write_tables(
    console: Console,
    payments: Sequence[PaymentRow],
    still_open: Sequence[OpenRow],
    locale: str,
) -> None:
    """Print the payments, the invoices still open (at most 50) and a one-line summary; fits 80 columns."""
    table = Table(title="Who paid what", title_justify="left")
    table.add_column("#", style="dim", no_wrap=True, max_width=12, overflow="ellipsis")
    table.add_column("Booked", no_wrap=True)
    table.add_column("Amount", justify="right", no_wrap=True)
    table.add_column("From / to", max_width=24, overflow="ellipsis", no_wrap=True)
    table.add_column("Result")
    for row in payments:
        result = _STATUS.get(row.status, row.status)
        if row.invoices:
            result += f" {row.invoices}"
        if row.confidence:
            result += f" [dim]({row.confidence:.0%})[/]"
        if row.flags:
            result += "\n[dim]" + ", ".join(_FLAGS.get(f, f) for f in row.flags) + "[/]"
        table.add_row(
            row.ref, row.booked.isoformat(), format_money(row.amount, row.currency, locale), row.party, result
        )
    console.print(table)
    if still_open:
        open_table = Table(title="Still open", title_justify="left")
        open_table.add_column("Invoice", no_wrap=True)
        open_table.add_column("", no_wrap=True)
        open_table.add_column("Partner", max_width=26, overflow="ellipsis", no_wrap=True)
        open_table.add_column("Due", no_wrap=True)
        open_table.add_column("Open", justify="right", no_wrap=True)
        for item in still_open[:50]:
            open_table.add_row(
                item.number,
                "we owe" if item.direction == "received" else "owed to us",
                item.partner,
                item.due.isoformat() if item.due else "",
                format_money(item.amount, item.currency, locale),
            )
        console.print(open_table)
        if len(still_open) > 50:
            console.print(f"… and {len(still_open) - 50} more open invoices")
    counts = {status: sum(1 for r in payments if r.status == status) for status in _STATUS}
    aside = f", {counts['ignored']} set aside" if counts["ignored"] else ""
    console.print(f"{counts['matched']} paired, {counts['suggested']} to check, {counts['unmatched']} open{aside}")
