"""The arguments of the commands on the stored books; their code (``reconbot.cli.books``) loads when one runs.

``reconbot.cli.books`` imports SQLAlchemy, Alembic and the services (most of a second), which
``reconcile`` and ``parse`` never need, and the command line builds every command's arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from reconbot.core.money import parse_dot_amount
from reconbot.core.statements import FORMATS

_MAX_ID = 2**63 - 1


def row_id(text: str) -> int:
    """Return a transaction or invoice id typed on the command line; argparse reports a bad one."""
    if not text.isdigit() or not 0 < int(text) <= _MAX_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a positive whole number)")
    return int(text)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the database commands to the command line."""
    p = sub.add_parser("import", help="import bank statements into the workspace and match them")
    p.add_argument("files", type=Path, nargs="+", metavar="FILE", help=f"statement files ({', '.join(FORMATS)})")
    p.set_defaults(run=later("import_files"))

    invoices = sub.add_parser("invoices", help="invoice commands").add_subparsers(dest="what", required=True)
    p = invoices.add_parser("import", help="import an INVOICES.csv export into the workspace and match")
    p.add_argument("file", type=Path, metavar="INVOICES.csv")
    p.set_defaults(run=later("import_invoice_file"))

    p = sub.add_parser("report", help="show who paid what, what to check and what is still open")
    p.set_defaults(run=later("report"))

    p = sub.add_parser("pair", help="pair a transaction with invoices (ids and numbers as `report` shows them)")
    p.add_argument("transaction", type=row_id)
    p.add_argument("invoices", nargs="+", metavar="INVOICE")
    p.add_argument(
        "--amount",
        action="append",
        type=parse_dot_amount,
        metavar="AMOUNT",
        help="how much goes to each invoice, in order (default: the due first, up to its open amount)",
    )
    p.set_defaults(run=later("pair_command"))

    p = sub.add_parser("unpair", help="undo the pairings of a transaction")
    p.add_argument("transaction", type=row_id)
    p.set_defaults(run=later("unpair_command"))

    p = sub.add_parser("ignore", help="set a transaction aside as no invoice payment (fee, salary, own transfer)")
    p.add_argument("transaction", type=row_id)
    p.set_defaults(run=later("ignore_command"))

    p = sub.add_parser("unignore", help="bring a transaction that was set aside back to matching")
    p.add_argument("transaction", type=row_id)
    p.set_defaults(run=later("unignore_command"))

    db = sub.add_parser("db", help="database commands").add_subparsers(dest="what", required=True)
    p = db.add_parser("upgrade", help="create or migrate the database to this version")
    p.set_defaults(run=later("db_upgrade"))

    p = sub.add_parser("demo", help="import a sample statement and invoice list and show the result")
    p.set_defaults(run=later("demo"))


def later(name: str, module: str = "reconbot.cli.books") -> Callable[[argparse.Namespace], int]:
    """Return the command ``<module>.<name>``, imported only when it runs.

    The command returns 1 with one line on standard error when the database cannot be used.
    """

    def run(args: argparse.Namespace) -> int:
        import importlib

        from sqlalchemy.exc import OperationalError

        command: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), name)
        try:
            return command(args)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "unknown error"
            if "locked" in reason:
                reason = "it is busy with another reconbot's work; try again in a moment"
            print(f"reconbot: cannot use the database: {reason}", file=sys.stderr)
            return 1

    return run
