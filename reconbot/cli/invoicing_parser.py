"""The arguments of ``reconbot invoicing …``; their code loads when one runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconbot.cli.books_parser import later, row_id

SYSTEMS = ("billingo", "fakturownia", "szamlazz", "own")
MODES = ("auto", "manual")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the invoicing-system commands to the command line."""
    invoicing = sub.add_parser(
        "invoicing", help="invoicing systems: connect, sync, write-back, final and sale invoices"
    )
    cmd = invoicing.add_subparsers(dest="what", required=True, metavar="ACTION")

    p = cmd.add_parser("setup", help="connect an invoicing system (credentials stored encrypted)")
    p.add_argument("system", choices=SYSTEMS)
    p.add_argument("--account", help="Fakturownia: the account (https://ACCOUNT.fakturownia.pl)")
    p.add_argument("--block-id", help="Billingo: the document block new invoices go to (default: the first)")
    p.add_argument("--base-url", help="the system's API address, if not the public one (a proxy, a test server)")
    p.set_defaults(run=later("setup", "reconbot.cli.invoicing"))

    p = cmd.add_parser("list", help="the connected systems: last sync, errors, write-backs waiting or failed")
    p.set_defaults(run=later("list_sources", "reconbot.cli.invoicing"))

    p = cmd.add_parser("check", help="test a system's credentials with one harmless call")
    p.add_argument("system", choices=SYSTEMS[:-1])
    p.set_defaults(run=later("check", "reconbot.cli.invoicing"))

    p = cmd.add_parser("sync", help="pull invoices now (every connected system, or one), then match")
    p.add_argument("system", choices=SYSTEMS[:-1], nargs="?")
    p.set_defaults(run=later("sync", "reconbot.cli.invoicing"))

    p = cmd.add_parser("settings", help="show or change final-invoice and sale-invoice modes")
    p.add_argument("--proforma-mode", choices=MODES, help="final invoice of a paid proforma: at once, or on a button")
    p.add_argument("--sale-mode", choices=MODES, help="invoice of a paid sale: at once, or on a button")
    p.add_argument("--sale-source", choices=SYSTEMS[:-1], help="the system sale invoices are issued in")
    p.add_argument("--vat-rate", help="VAT %% of sales that list no items (default: the country's)")
    p.set_defaults(run=later("settings", "reconbot.cli.invoicing"))

    p = cmd.add_parser("operations", help="writes to invoicing systems that wait, run or failed")
    p.add_argument("--all", action="store_true", help="also the finished ones (latest 50)")
    p.set_defaults(run=later("operations", "reconbot.cli.invoicing"))

    p = cmd.add_parser("write-back", help="send every due write now (the scheduler does it every 30 s)")
    p.set_defaults(run=later("write_back", "reconbot.cli.invoicing"))

    p = cmd.add_parser("retry", help="give a failed write a fresh round of attempts, now")
    p.add_argument("operation", type=row_id)
    p.set_defaults(run=later("retry", "reconbot.cli.invoicing"))

    p = cmd.add_parser("final", help="issue the final invoice of a fully paid proforma (manual mode)")
    p.add_argument("proforma", help="the proforma's number")
    p.set_defaults(run=later("final", "reconbot.cli.invoicing"))

    p = cmd.add_parser("sale", help="report a paid sale (JSON file, - for stdin); invoiced once fully paid")
    p.add_argument("file", type=Path)
    p.add_argument("--origin", default="api", help="which system's sale ids these are (default: api)")
    p.set_defaults(run=later("sale", "reconbot.cli.invoicing"))

    p = cmd.add_parser("invoice-sale", help="issue the invoice of a recorded, fully paid sale (manual mode)")
    p.add_argument("sale", type=row_id)
    p.set_defaults(run=later("invoice_sale_command", "reconbot.cli.invoicing"))
