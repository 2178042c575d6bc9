"""The arguments of ``reconbot bank …`` and ``reconbot run``; their code loads when one runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconbot.cli.books_parser import later, row_id

PROVIDER_NAMES = ("sandbox", "enable-banking", "gocardless")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the bank-feed commands and ``run`` to the command line."""
    bank = sub.add_parser("bank", help="bank feeds (PSD2): connect banks, sync, consents")
    cmd = bank.add_subparsers(dest="what", required=True, metavar="ACTION")

    p = cmd.add_parser("setup", help="store a provider's credentials (encrypted)")
    p.add_argument("provider", choices=PROVIDER_NAMES[1:])
    p.add_argument("--application-id", help="Enable Banking: the application id (the key's kid)")
    p.add_argument("--private-key-file", type=Path, help="Enable Banking: the application's private key (PEM)")
    p.add_argument("--secret-id", help="GoCardless: the secret id")
    p.add_argument("--base-url", help="the provider's API address, if not the public one (a proxy, a test server)")
    p.set_defaults(run=later("setup", "reconbot.cli.bank"))

    p = cmd.add_parser("banks", help="list the banks a provider can connect in a country")
    p.add_argument("provider", choices=PROVIDER_NAMES)
    p.add_argument("--country", help="ISO country code (default: the workspace's)")
    p.set_defaults(run=later("banks", "reconbot.cli.bank"))

    p = cmd.add_parser("connect", help="connect a bank: prints the bank's consent page and waits for the return")
    p.add_argument("provider", choices=PROVIDER_NAMES)
    p.add_argument("bank", help="the bank, by id or name as `reconbot bank banks` lists it")
    p.add_argument("--country", help="ISO country code (default: the workspace's)")
    p.add_argument("--history-days", type=int, help="how far back the first sync reaches (default: 7)")
    p.add_argument("--no-wait", action="store_true", help="print the link and return; finish with `bank finish`")
    p.set_defaults(run=later("connect", "reconbot.cli.bank"))

    p = cmd.add_parser("renew", help="renew a connection's consent (its accounts and history stay)")
    p.add_argument("connection", type=row_id)
    p.add_argument("--no-wait", action="store_true", help="print the link and return; finish with `bank finish`")
    p.set_defaults(run=later("renew", "reconbot.cli.bank"))

    p = cmd.add_parser("finish", help="finish a consent from the address the bank sent your browser back to")
    p.add_argument("url", help="the whole address, as the browser shows it")
    p.set_defaults(run=later("finish", "reconbot.cli.bank"))

    p = cmd.add_parser("list", help="connections and accounts: status, consent end, last sync, balance")
    p.set_defaults(run=later("list_connections", "reconbot.cli.bank"))

    p = cmd.add_parser("sync", help="sync now (all active connections, or one)")
    p.add_argument("connection", type=row_id, nargs="?")
    p.set_defaults(run=later("sync", "reconbot.cli.bank"))

    p = cmd.add_parser("disconnect", help="stop syncing a connection; its transactions stay")
    p.add_argument("connection", type=row_id)
    p.set_defaults(run=later("disconnect_command", "reconbot.cli.bank"))

    p = cmd.add_parser("settings", help="show or change the workspace's sync times, reminder days and history")
    p.add_argument("--sync-times", help='local times like "11:45,15:15,18:30", or "hourly", "every 2 hours"')
    p.add_argument("--reminder-days", help='days before a consent ends to remind, like "8,2"')
    p.add_argument("--history-days", type=int, help="how far back a new connection's first sync reaches")
    p.set_defaults(run=later("settings", "reconbot.cli.bank"))

    p = cmd.add_parser("check-consents", help="send due consent reminders and mark ended consents expired")
    p.set_defaults(run=later("check_consents_command", "reconbot.cli.bank"))

    p = sub.add_parser("run", help="serve the web endpoints and run the scheduled bank syncs until stopped")
    p.set_defaults(run=later("run", "reconbot.serve"))
