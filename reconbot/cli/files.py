"""Commands on files alone: ``reconcile`` and ``parse``; no database is touched."""

from __future__ import annotations

import argparse
import csv
import gc
import json
from pathlib import Path

from rich.console import Console

from reconbot.cli import report
from reconbot.cli.output import output_file, user_locale
from reconbot.cli.progress import terminal_progress
from reconbot.cli.tables import write_tables
from reconbot.core.money import format_amount
from reconbot.core.services.reconciliation.files import reconcile_files
from reconbot.core.statements import FORMATS, parse_statement
from reconbot.core.statements.csv_generic import GENERIC_COLUMNS


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``reconcile`` and ``parse`` to the command line."""
    p = sub.add_parser("reconcile", help="match an invoice export against bank statements (no database)")
    p.add_argument("--invoices", type=Path, required=True, metavar="INVOICES.csv")
    p.add_argument(
        "--statement",
        type=Path,
        required=True,
        action="append",
        metavar="FILE",
        help=f"a bank statement ({', '.join(FORMATS)}); repeat for several",
    )
    p.add_argument("--format", choices=("json", "csv", "table"), default="table")
    p.add_argument("--output", type=Path, metavar="FILE", help="write here instead of standard output")
    p.set_defaults(run=reconcile)

    p = sub.add_parser("parse", help="show the transactions read from a statement file")
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument("--output", type=Path, metavar="FILE")
    p.set_defaults(run=parse)


def reconcile(args: argparse.Namespace) -> int:
    """Match an invoice export against statements without touching any database."""
    # Matching leaves no reference cycles behind (tests/matching/test_cycles.py keeps it so), so the
    # cycle collector would only re-scan hundreds of thousands of live invoices: seconds for nothing.
    gc.disable()
    try:
        with terminal_progress() as progress:
            run = reconcile_files(args.invoices, args.statement, progress=progress)
        with output_file(args.output) as out:
            if args.format == "json":
                report.write_json(run, out)
            elif args.format == "csv":
                report.write_csv(run, out)
            else:
                console = Console(file=out, width=None if args.output is None else 160)
                write_tables(console, report.payment_rows(run), report.open_rows(run), user_locale())
    finally:
        gc.enable()
    return 0


def parse(args: argparse.Namespace) -> int:
    """Print the transactions read from a statement file."""
    statement = parse_statement(args.file)
    rows = [
        {
            "id": t.id,
            "booking_date": t.booking_date.isoformat(),
            "value_date": t.value_date.isoformat() if t.value_date else None,
            "amount": format_amount(t.amount),
            "currency": t.currency,
            "counterparty_name": t.counterparty_name,
            "counterparty_iban": t.counterparty_iban,
            "reference": t.reference,
            "end_to_end_id": t.end_to_end_id,
        }
        for t in statement.transactions
    ]
    with output_file(args.output) as out:
        if args.format == "json":
            json.dump({"format": statement.format, "transactions": rows}, out, ensure_ascii=False, indent=1)
            out.write("\n")
        else:
            writer = csv.DictWriter(out, fieldnames=list(GENERIC_COLUMNS), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return 0
