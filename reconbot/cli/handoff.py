"""``reconbot handoff …``: handing issued invoices and their settlements to the accountant."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import secrets
from datetime import UTC, datetime

from reconbot.cli.books import cli_actor, open_books, workspace_for
from reconbot.core.services.handoff.marking import invoice_by_number, list_items, mark_invoices
from reconbot.core.services.handoff.sending import send_due
from reconbot.core.services.handoff.setup import backfill, list_receivers, remove_receiver, setup_receiver

SECRET_ENV = "RECONBOT_HANDOFF_SECRET"


def _now() -> datetime:
    return datetime.now(UTC)


def setup(args: argparse.Namespace) -> int:
    """Store a receiver's settings, sealed; a secret comes from the environment or a prompt, never an argument."""
    settings: dict[str, str] = {}
    generated = ""
    if args.kind == "webhook":
        settings["url"] = args.url or ""
        settings["secret"] = os.environ.get(SECRET_ENV, "")
    elif args.kind == "email":
        settings = {"host": args.host or "", "port": args.port or "", "user": args.user or "",
                    "sender": args.sender or "", "to": args.to or ""}  # fmt: skip
        if args.no_starttls:
            settings["starttls"] = "no"
        if args.user:
            settings["password"] = os.environ.get(SECRET_ENV) or getpass.getpass("SMTP password: ")
    else:
        settings["path"] = os.path.abspath(args.path) if args.path else ""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        known = {r.kind.value for r in list_receivers(engine, workspace_id)}
        if args.kind == "webhook" and not settings["secret"] and "webhook" not in known:
            settings["secret"] = generated = secrets.token_urlsafe(32)
        if args.kind == "email" and "email" not in known and not settings["port"]:
            settings["port"] = "587"
        view = setup_receiver(engine, workspace_id, args.kind, settings, actor=cli_actor(), now=_now(),
                              auto_mode=args.auto, interval_minutes=args.interval)  # fmt: skip
    mode = "auto (every new issued invoice)" if view.auto_mode else "manual (what is marked)"
    print(f"{args.kind}: set up; mode {mode}; sent every {view.interval_minutes} minutes")
    if generated:
        # Shown this once: it is stored encrypted and never printed again.
        print(f"Signing secret (give it to the receiving system): {generated}")
    return 0


def mark(args: argparse.Namespace) -> int:
    """Mark invoices by number for every receiver."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        ids = [invoice_by_number(engine, workspace_id, number) for number in args.numbers]
        marked = mark_invoices(engine, workspace_id, ids, actor=cli_actor(), now=_now())
    print(f"{marked} document(s) marked for sending" + ("" if marked else " (all were waiting or sent already)"))
    return 0


def backfill_command(args: argparse.Namespace) -> int:
    """Mark every invoice issued from a date on; refused when the backfill was used before."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        marked = backfill(engine, workspace_id, args.start, actor=cli_actor(), now=_now(), kind=args.receiver)
    print(f"backfill from {args.start.isoformat()}: {marked} document(s) marked; it cannot be used again")
    return 0


def send(args: argparse.Namespace) -> int:
    """Run the handoff now for this workspace: mark what is new, send what is waiting."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        run = asyncio.run(send_due(engine, _now(), workspace_id=workspace_id, force=True))
    print(f"{run.marked} marked, {run.sent} sent, {run.retrying} to retry, {run.failed} failed")
    for error in run.errors:
        print(f"  {error}")
    return 1 if run.failed else 0


def status(args: argparse.Namespace) -> int:
    """Print the receivers and the latest documents' states."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        receivers = list_receivers(engine, workspace_id)
        items = list_items(engine, workspace_id, limit=args.limit)
    if not receivers:
        print("no receiver is set up; run `reconbot handoff setup webhook|email|folder`")
    for receiver in receivers:
        shown = ", ".join(f"{k}={v}" for k, v in receiver.settings.items())
        used = (f"used {receiver.backfill_done_at:%Y-%m-%d} from {receiver.backfill_from}"
                if receiver.backfill_done_at else "not used")  # fmt: skip
        print(f"{receiver.kind.value}: {'auto' if receiver.auto_mode else 'manual'}, every "
              f"{receiver.interval_minutes} min; backfill {used}; {shown}")  # fmt: skip
    for item in items:
        when = item.sent_at or item.marked_at
        what = f"{item.kind.value} {item.invoice_number}" + (f" (payment {item.allocation_id})"
                                                              if item.allocation_id else "")  # fmt: skip
        detail = item.answer if item.sent_at else item.last_error
        print(f"{what}\t{item.receiver}\t{item.state.value}\t{when:%Y-%m-%d %H:%M} UTC\t{detail}".rstrip())
    return 0


def remove(args: argparse.Namespace) -> int:
    """Stop handing documents to a receiver (its history stays)."""
    with open_books() as engine:
        remove_receiver(engine, workspace_for(engine, args.workspace), args.kind, actor=cli_actor(), now=_now())
    print(f"{args.kind}: removed")
    return 0
