"""The arguments of ``reconbot handoff …``; their code (``reconbot.cli.handoff``) loads when one runs."""

from __future__ import annotations

import argparse
from datetime import date

from reconbot.cli.books_parser import later


def iso_date(text: str) -> date:
    """Return a date typed as YYYY-MM-DD; argparse reports a bad one."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the accountant-handoff commands to the command line."""
    handoff = sub.add_parser("handoff", help="hand issued invoices and their settlements to the accountant")
    cmd = handoff.add_subparsers(dest="what", required=True, metavar="ACTION")

    setup = cmd.add_parser("setup", help="set up (or change) where documents go: webhook, email or folder")
    kinds = setup.add_subparsers(dest="kind", required=True, metavar="KIND")
    p = kinds.add_parser("webhook", help="POST each document as signed JSON (secret from RECONBOT_HANDOFF_SECRET)")
    p.add_argument("url", nargs="?", help="the accountant system's address (kept when omitted on a change)")
    _common(p)
    p = kinds.add_parser("email", help="mail each document over SMTP (password from RECONBOT_HANDOFF_SECRET)")
    p.add_argument("--host")
    p.add_argument("--port", help="default 587")
    p.add_argument("--user", help="SMTP user name (the password is asked for, or read from the environment)")
    p.add_argument("--sender", help="the From address")
    p.add_argument("--to", help="the accountant's address (several separated by commas)")
    p.add_argument("--no-starttls", action="store_true", help="send without STARTTLS (a local relay only)")
    _common(p)
    p = kinds.add_parser("folder", help="write files an accountant's software imports")
    p.add_argument("path", nargs="?", help="the export folder (absolute)")
    _common(p)

    p = cmd.add_parser("mark", help="mark an issued invoice or advance invoice for sending")
    p.add_argument("numbers", nargs="+", metavar="NUMBER")
    p.set_defaults(run=later("mark", "reconbot.cli.handoff"))

    p = cmd.add_parser("backfill", help="mark every invoice issued from a date on (once per receiver)")
    p.add_argument("--from", dest="start", type=iso_date, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--receiver", choices=("webhook", "email", "folder"), help="only this receiver (default: all)")
    p.set_defaults(run=later("backfill_command", "reconbot.cli.handoff"))

    p = cmd.add_parser("send", help="mark what is new and send what is waiting, now (the job runs every 30 min)")
    p.set_defaults(run=later("send", "reconbot.cli.handoff"))

    p = cmd.add_parser("status", help="the receivers, and the state of each document handed over")
    p.add_argument("--limit", type=int, default=50, help="how many documents to list (default: %(default)s)")
    p.set_defaults(run=later("status", "reconbot.cli.handoff"))

    p = cmd.add_parser("remove", help="stop handing documents to a receiver")
    p.add_argument("kind", choices=("webhook", "email", "folder"))
    p.set_defaults(run=later("remove", "reconbot.cli.handoff"))


def _common(p: argparse.ArgumentParser) -> None:
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--auto", dest="auto", action="store_true", default=None,
                      help="mark every new issued invoice at once")  # fmt: skip
    mode.add_argument("--manual", dest="auto", action="store_false", help="send only what is marked by hand")
    p.add_argument("--interval", type=int, metavar="MINUTES", help="how often waiting documents are sent (default 30)")
    p.set_defaults(run=later("setup", "reconbot.cli.handoff"))
