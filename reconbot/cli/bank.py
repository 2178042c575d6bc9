"""``reconbot bank …``: bank feeds from the command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from reconbot.cli.books import cli_actor, open_books, workspace_for, workspace_named
from reconbot.cli.output import workspace_locale
from reconbot.core.money import format_money
from reconbot.core.services.banks.connections import (
    ConsentLink,
    complete_consent,
    connect_bank,
    disconnect,
    renew_connection,
)
from reconbot.core.services.banks.consents import check_consents, reminder_days
from reconbot.core.services.banks.overview import AccountView, active_connection_ids, connection_views
from reconbot.core.services.banks.providers import BankFeeds, save_credentials
from reconbot.core.services.jobs.scheduler import summary, sync_now
from reconbot.core.services.reconciliation.settings import update_matching_settings
from reconbot.core.sync_times import sync_times
from reconbot.serve import wait_for_consent

GOCARDLESS_SECRET_ENV = "RECONBOT_GOCARDLESS_SECRET_KEY"


def setup(args: argparse.Namespace) -> int:
    """Store a provider's credentials, encrypted; secrets are read from a file, the environment or a prompt."""
    values: dict[str, str] = {}
    if args.provider == "enable-banking":
        if not args.application_id or not args.private_key_file:
            print("reconbot: enable-banking needs --application-id and --private-key-file", file=sys.stderr)
            return 2
        values = {"application_id": args.application_id, "private_key": args.private_key_file.read_text()}
    else:
        if not args.secret_id:
            print("reconbot: gocardless needs --secret-id (and the secret key when asked)", file=sys.stderr)
            return 2
        # Never an argument: it would stay in the shell's history and in `ps`.
        key = os.environ.get(GOCARDLESS_SECRET_ENV) or getpass.getpass("GoCardless secret key: ")
        values = {"secret_id": args.secret_id, "secret_key": key}
    if args.base_url:
        values["base_url"] = args.base_url
    with open_books() as engine:
        save_credentials(engine, workspace_for(engine, args.workspace), args.provider, values, actor=cli_actor())
    print(f"{args.provider}: credentials saved (encrypted)")
    return 0


def banks(args: argparse.Namespace) -> int:
    """List the banks a provider can connect."""
    with open_books() as engine:
        workspace = workspace_named(engine, args.workspace)
        country = args.country or workspace.country
        provider = BankFeeds(engine).provider(workspace.id, args.provider)

        async def fetch() -> list[str]:
            try:
                found = await provider.institutions(country.upper())
            finally:
                await provider.aclose()
            return [f"{i.id}\t{i.name}" + (f"\t{i.max_consent_days} days" if i.max_consent_days else "") for i in found]

        lines = asyncio.run(fetch())
    print("\n".join(lines) if lines else f"{args.provider} lists no bank in {country.upper()}")
    return 0


def connect(args: argparse.Namespace) -> int:
    """Start connecting a bank, print its consent page, and (unless --no-wait) wait for the owner to return."""
    with open_books() as engine:
        feeds = BankFeeds(engine)
        workspace_id = workspace_for(engine, args.workspace)
        link = asyncio.run(
            connect_bank(
                feeds,
                workspace_id,
                args.provider,
                args.bank,
                actor=cli_actor(),
                country=args.country,
                history_days=args.history_days,
            )
        )
        return _follow(feeds, link, args.no_wait)


def renew(args: argparse.Namespace) -> int:
    """Start renewing a connection's consent; print the bank's page and wait as ``connect`` does."""
    with open_books() as engine:
        feeds = BankFeeds(engine)
        link = asyncio.run(renew_connection(feeds, args.connection, actor=cli_actor()))
        return _follow(feeds, link, args.no_wait)


def _follow(feeds: BankFeeds, link: ConsentLink, no_wait: bool) -> int:
    print(f"Open this page to give consent at the bank (connection {link.connection_id}):\n\n  {link.url}\n")
    if no_wait:
        print("When the bank sends you back, reconbot (if `reconbot run` is serving) finishes the connection;")
        print("otherwise copy the address you land on and run:  reconbot bank finish '<address>'")
        return 0
    print(f"Waiting for the bank to send you back to {feeds.callback_url} … (Ctrl-C to stop)")
    outcome = asyncio.run(wait_for_consent(feeds, link.state))
    print(outcome.message)
    return 0 if outcome.granted else 1


def finish(args: argparse.Namespace) -> int:
    """Finish a consent from the address the bank redirected the browser to."""
    query = dict(parse_qsl(urlsplit(args.url).query))
    if "state" not in query:
        print("reconbot: that address has no state= parameter; copy the whole address from the browser",
              file=sys.stderr)  # fmt: skip
        return 2
    with open_books() as engine:
        done = asyncio.run(complete_consent(BankFeeds(engine), query["state"], query))
    verb = "renewed" if done.renewed else "connected"
    print(
        f"{done.institution_name} {verb}: {done.accounts} account(s), consent valid until {done.valid_until:%Y-%m-%d}"
    )
    return 0


def list_connections(args: argparse.Namespace) -> int:
    """Print each connection with its consent, and each account with its last sync and balance."""
    with open_books() as engine:
        workspace = workspace_named(engine, args.workspace)
        connections = connection_views(engine, workspace.id, datetime.now(UTC))
    if not connections:
        print("No bank connected yet. Try: reconbot bank connect sandbox 'Sandbox Bank HU'")
        return 0
    locale, zone = workspace_locale(workspace), workspace.zone
    for c in sorted(connections, key=lambda c: c.connection_id):  # oldest first, as they were connected
        consent = ""
        if c.valid_until is not None:
            consent = f", consent until {c.valid_until.astimezone(zone):%Y-%m-%d} ({c.days_left} days left)"
        print(f"[{c.connection_id}] {c.bank} via {c.provider}: {c.status.value}{consent}")
        for a in c.accounts:
            print(f"    {a.iban} {a.currency}: {_sync_line(a, zone, locale)}")
    return 0


def _sync_line(account: AccountView, zone: ZoneInfo, locale: str) -> str:
    def when(moment: datetime | None) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}" if moment else "never"

    parts = [f"last sync {when(account.last_sync_at)}", f"last success {when(account.last_success_at)}"]
    if account.last_error:
        parts.append(f"last error: {account.last_error}")
    if account.balance is not None:
        money = format_money(account.balance, account.balance_currency, locale)
        parts.append(f"balance {money} ({account.balance_kind}, {account.balance_date})")
    return "; ".join(parts)


def sync(args: argparse.Namespace) -> int:
    """Sync one connection, or every active one, now."""
    with open_books() as engine:
        feeds = BankFeeds(engine)
        workspace_id = workspace_for(engine, args.workspace)
        ids = [args.connection] if args.connection is not None else active_connection_ids(engine, workspace_id)
        if not ids:
            print("No active bank connection to sync.")
            return 0
        failed = False
        for connection_id in ids:
            result = asyncio.run(sync_now(feeds, connection_id, actor=cli_actor()))
            if result is None:
                print(f"[{connection_id}] already synced or syncing (asked within the last minute)")
                continue
            failed |= result.expired or any(a.error for a in result.accounts)
            m = result.matching
            print(f"[{connection_id}] {summary(result)}; matched {m.matched}, suggested {m.suggested}, "
                  f"unmatched {m.unmatched}")  # fmt: skip
    return 1 if failed else 0


def disconnect_command(args: argparse.Namespace) -> int:
    with open_books() as engine:
        disconnect(BankFeeds(engine), args.connection, actor=cli_actor())
    print(f"Connection {args.connection} disconnected; its transactions are kept.")
    return 0


def settings(args: argparse.Namespace) -> int:
    """Change the given bank-feed settings of the workspace (each checked first) and print them all."""
    try:
        if args.sync_times is not None:
            sync_times(args.sync_times)
        if args.reminder_days is not None:
            reminder_days(args.reminder_days)
    except ValueError as exc:  # names the bad part
        print(f"reconbot: {exc}", file=sys.stderr)
        return 2
    if args.history_days is not None and not 1 <= args.history_days <= 730:
        print("reconbot: --history-days: between 1 and 730 days", file=sys.stderr)
        return 2
    with open_books() as engine:
        now = update_matching_settings(engine, workspace_for(engine, args.workspace), actor=cli_actor(),
                                       schedule=args.sync_times, reminders=args.reminder_days,
                                       history_days=args.history_days)  # fmt: skip
    print(f"sync times: {now.sync_times} ({now.timezone})")
    print(f"consent reminders: {now.reminder_days} days before the end")
    print(f"first sync reaches back: {now.history_days} days")
    return 0


def check_consents_command(args: argparse.Namespace) -> int:
    with open_books() as engine:
        result = asyncio.run(check_consents(BankFeeds(engine)))
    print(f"{result.reminders} reminder(s) queued, {result.expired} consent(s) expired")
    return 0
