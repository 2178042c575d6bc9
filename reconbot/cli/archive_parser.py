"""The arguments of ``reconbot archive …``; their code (``reconbot.cli.archive``) loads when one runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconbot.cli.books_parser import later, row_id


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the invoice-archive commands to the command line."""
    archive = sub.add_parser("archive", help="the invoice archive: PDFs with versions, search, downloads")
    cmd = archive.add_subparsers(dest="what", required=True, metavar="ACTION")

    p = cmd.add_parser("add", help="archive an issued invoice's PDF (a new version when the bytes differ)")
    p.add_argument("file", type=Path, metavar="FILE.pdf")
    p.add_argument("--invoice", required=True, metavar="NUMBER", help="the issued invoice's number")
    p.set_defaults(run=later("add", "reconbot.cli.archive"))

    p = cmd.add_parser("search", help="find archived invoices by number, partner, amount, date or PDF text")
    p.add_argument("words", nargs="+", metavar="WORD", help="every word must occur")
    p.add_argument("--limit", type=row_id, default=20, help="how many invoices to list (default: %(default)s)")
    p.set_defaults(run=later("search_command", "reconbot.cli.archive"))

    p = cmd.add_parser("history", help="every archived version of an invoice's PDF, and its downloads")
    p.add_argument("number", metavar="NUMBER")
    p.set_defaults(run=later("history_command", "reconbot.cli.archive"))

    p = cmd.add_parser("get", help="write an archived PDF to a file (checked against its hash; logged)")
    p.add_argument("number", metavar="NUMBER")
    p.add_argument("--version", type=row_id, help="which version (default: the latest)")
    p.add_argument("--output", type=Path, required=True, metavar="FILE", help="where to write it (must not exist)")
    p.set_defaults(run=later("get", "reconbot.cli.archive"))

    p = cmd.add_parser("verify", help="check every archived file against its hash")
    p.set_defaults(run=later("verify", "reconbot.cli.archive"))

    for name, verb in (("approve", "archive"), ("reject", "refuse")):
        p = cmd.add_parser(name, help=f"{verb} the version of an invoice's PDF that waits for approval")
        p.add_argument("number", metavar="NUMBER")
        p.set_defaults(run=later(name, "reconbot.cli.archive"))
