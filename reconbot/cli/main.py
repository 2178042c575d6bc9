"""``reconbot``: the command line.

Bad input ends in one line on stderr naming the file, the place and the
reason (exit status 2); a refused action in one line saying why (exit
status 1); never in a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from reconbot.cli import archive_parser, bank_parser, books_parser, chat_parser, files, handoff_parser, invoicing_parser
from reconbot.core.banks.errors import ProviderError
from reconbot.core.domain import DEFAULT_WORKSPACE
from reconbot.core.errors import InputError, ReconciliationError, SecretKeyError, SetupError

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="reconbot", description="Who paid which invoice, from bank statements.")
    parser.add_argument(
        "--workspace",
        default=DEFAULT_WORKSPACE,
        metavar="SLUG",
        help="the workspace (business) the database commands work on (default: %(default)s)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    files.add_commands(sub)
    books_parser.add_commands(sub)
    bank_parser.add_commands(sub)
    invoicing_parser.add_commands(sub)
    chat_parser.add_commands(sub)
    handoff_parser.add_commands(sub)
    archive_parser.add_commands(sub)
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
    except (ReconciliationError, ProviderError, SecretKeyError, SetupError) as exc:
        print(f"reconbot: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"reconbot: {exc.filename}: no such file", file=sys.stderr)
        return 2
    except IsADirectoryError as exc:
        print(f"reconbot: {exc.filename}: is a folder, not a file", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def entry() -> None:
    """Run the command line as a program, and leave without tearing the heap down.

    A run over 200,000 invoices leaves a large heap; freeing it object by object
    takes most of a second that the operating system does in no time. Output is
    flushed and files are closed (each command closes its own) before leaving.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
