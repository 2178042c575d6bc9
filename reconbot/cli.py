"""``reconbot``: the command line.

Bad input ends in one line on stderr naming the file, the place and the
reason (exit status 2), never in a traceback.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from rich.console import Console

from core.errors import InputError, ReconciliationError
from core.money import format_amount
from core.services.file_reconciliation import reconcile_files
from core.statements import FORMATS, parse_statement
from reconbot import report
from reconbot.progress import terminal_progress

Command = Callable[[argparse.Namespace], int]
PARSE_COLUMNS = (
    "id",
    "booking_date",
    "value_date",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_iban",
    "reference",
    "end_to_end_id",
)


def _locale() -> str:
    lang = os.environ.get("RECONBOT_LOCALE") or os.environ.get("LC_ALL") or os.environ.get("LANG") or "en"
    lang = lang.split(".")[0]
    return "en" if lang in ("C", "POSIX", "") else lang


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """Yield the file to write to: ``path`` (written whole or not at all) or standard output."""
    if path is None:
        yield sys.stdout
        return
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as file:
            yield file
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Match an invoice export against statements without touching any database."""
    # Matching leaves no reference cycles behind (tests/matching/test_cycles.py keeps it so), so the
    # cycle collector would only re-scan hundreds of thousands of live invoices: seconds for nothing.
    gc.disable()
    try:
        with terminal_progress() as progress:
            run = reconcile_files(args.invoices, args.statement, progress=progress)
        with _output(args.output) as out:
            if args.format == "json":
                report.write_json(run, out)
            elif args.format == "csv":
                report.write_csv(run, out)
            else:
                console = Console(file=out, width=None if args.output is None else 160)
                report.write_table(run, _locale(), console)
    finally:
        gc.enable()
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
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
    with _output(args.output) as out:
        if args.format == "json":
            json.dump({"format": statement.format, "transactions": rows}, out, ensure_ascii=False, indent=1)
            out.write("\n")
        else:
            writer = csv.DictWriter(out, fieldnames=list(PARSE_COLUMNS), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="reconbot", description="Who paid which invoice, from bank statements.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    p.set_defaults(run=cmd_reconcile)

    p = sub.add_parser("parse", help="show the transactions read from a statement file")
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument("--output", type=Path, metavar="FILE")
    p.set_defaults(run=cmd_parse)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = build_parser().parse_args(argv)
    run: Command = args.run
    try:
        return run(args)
    except InputError as exc:
        print(f"reconbot: {exc}", file=sys.stderr)
        return 2
    except ReconciliationError as exc:
        print(f"reconbot: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"reconbot: {exc.filename}: no such file", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
