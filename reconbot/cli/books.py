"""Commands on the workspace's stored books: import, report, pair, unpair, set aside, the demo.

Their arguments are in ``reconbot.cli.books_parser``, which imports this module only when one runs.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from importlib import resources

from rich.console import Console
from sqlalchemy import Engine

from reconbot.cli.output import workspace_locale
from reconbot.cli.progress import terminal_progress
from reconbot.cli.tables import OpenRow, PaymentRow, write_tables
from reconbot.core.errors import ReconciliationError
from reconbot.core.persistence.database import create_engine_for
from reconbot.core.persistence.schema import current_revision, upgrade
from reconbot.core.persistence.tables import Language
from reconbot.core.services.banks.statements import (
    StatementImport,
    import_statement,
    read_statement_file,
    store_statement,
)
from reconbot.core.services.invoicing.imports import InvoiceImport, import_invoices
from reconbot.core.services.invoicing.lookup import invoice_ids_numbered
from reconbot.core.services.reconciliation.matching import MatchingOutcome
from reconbot.core.services.reconciliation.pairing import ignore, pair, unignore, unpair_transaction
from reconbot.core.services.reconciliation.report import Overview, overview
from reconbot.core.services.workspaces import Workspace, open_workspace
from reconbot.core.settings import database_url, redacted_url

DEMO_SLUG = "demo"


@contextmanager
def open_books() -> Iterator[Engine]:
    """Yield the database, migrated to this version, and close its connections after."""
    engine = create_engine_for(database_url())
    try:
        upgrade(engine)  # a no-op when the database is current; a first run needs no setup
        yield engine
    finally:
        engine.dispose()


def workspace_named(engine: Engine, slug: str) -> Workspace:
    """Return the workspace ``slug``, created on first use (the demo one as the sample business)."""
    if slug == DEMO_SLUG:
        return open_workspace(engine, slug, name="Kert-Építő Kft. (demo)", language=Language.HU)
    return open_workspace(engine, slug)


def workspace_for(engine: Engine, slug: str) -> int:
    """Return the id of the workspace ``slug``, created on first use."""
    return workspace_named(engine, slug).id


def cli_actor() -> str:
    return f"cli:{getpass.getuser()}"


def db_upgrade(args: argparse.Namespace) -> int:
    """Create or migrate the database and say which version it is at."""
    with open_books() as engine:
        print(f"{redacted_url(database_url())} is at revision {current_revision(engine)}")
    return 0


def import_files(args: argparse.Namespace) -> int:
    """Import statements into the workspace: all files are read first, then each is stored in one transaction."""
    files = [read_statement_file(path) for path in args.files]  # a bad file stops the command before any import
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        for file in files:
            with terminal_progress() as progress:
                done = store_statement(engine, workspace_id, file, actor=cli_actor(), progress=progress)
            print(_statement_line(done))
    return 0


def import_invoice_file(args: argparse.Namespace) -> int:
    """Import an invoice list into the workspace."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        with terminal_progress() as progress:
            done = import_invoices(engine, workspace_id, args.file, actor=cli_actor(), progress=progress)
        print(_invoice_line(done))
    return 0


def report(args: argparse.Namespace) -> int:
    """Print the workspace's reconciliation."""
    with open_books() as engine:
        workspace = workspace_named(engine, args.workspace)
        _print_overview(overview(engine, workspace.id), workspace_locale(workspace))
    return 0


def pair_command(args: argparse.Namespace) -> int:
    """Pair a transaction with invoices named by number (or id)."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        invoice_ids = [_invoice_id(engine, workspace_id, text) for text in args.invoices]
        amounts: list[Decimal] | None = args.amount
        booked = pair(
            engine,
            workspace_id,
            transaction_id=args.transaction,
            invoice_ids=invoice_ids,
            actor=cli_actor(),
            amounts=amounts,
        )
        for b in booked:
            print(f"paired transaction {args.transaction} with {b.invoice_number}: {b.amount}")
    return 0


def unpair_command(args: argparse.Namespace) -> int:
    """Undo every live pairing of a transaction, in one database transaction."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        for undone in unpair_transaction(engine, workspace_id, transaction_id=args.transaction, actor=cli_actor()):
            print(f"undid the pairing of transaction {args.transaction} with {undone.invoice_number}: {undone.amount}")
    return 0


def ignore_command(args: argparse.Namespace) -> int:
    """Set a transaction aside."""
    with open_books() as engine:
        ignore(engine, workspace_for(engine, args.workspace), transaction_id=args.transaction, actor=cli_actor())
        print(f"set transaction {args.transaction} aside")
    return 0


def unignore_command(args: argparse.Namespace) -> int:
    """Bring a transaction that was set aside back to matching."""
    with open_books() as engine:
        unignore(engine, workspace_for(engine, args.workspace), transaction_id=args.transaction, actor=cli_actor())
        print(f"brought transaction {args.transaction} back")
    return 0


def demo(args: argparse.Namespace) -> int:
    """Import the bundled sample files into the ``demo`` workspace and show the reconciliation."""
    with open_books() as engine:
        workspace = workspace_named(engine, DEMO_SLUG)
        workspace_id = workspace.id
        samples = resources.files("reconbot") / "samples"
        with (
            resources.as_file(samples / "demo_invoices.csv") as invoices,
            resources.as_file(samples / "demo_statement.xml") as statement,
        ):
            print(_invoice_line(import_invoices(engine, workspace_id, invoices, actor=cli_actor())))
            print(_statement_line(import_statement(engine, workspace_id, statement, actor=cli_actor())))
        _print_overview(overview(engine, workspace_id), workspace_locale(workspace))
        print(
            f"\nStored in {redacted_url(database_url())}, workspace '{DEMO_SLUG}'. Run it again: nothing is "
            "imported twice. Try `reconbot --workspace demo pair 4 E-KERT-2025-15 E-KERT-2025-16`."
        )
    return 0


def _invoice_id(engine: Engine, workspace_id: int, text: str) -> int:
    """Return the id of the invoice numbered ``text``, else of the one whose id it is (checked by the pairing).

    Raises ReconciliationError when no invoice, or several, have that number.
    """
    found = invoice_ids_numbered(engine, workspace_id, text)
    if len(found) == 1:
        return found[0]
    if not found and text.isdigit():
        return int(text)
    if not found:
        raise ReconciliationError(f"there is no invoice numbered {text}")
    raise ReconciliationError(f"{len(found)} invoices are numbered {text}; give the invoice id instead")


def _matching_line(outcome: MatchingOutcome) -> str:
    return (
        f"{outcome.matched} paired automatically, {outcome.suggested} with suggestions to check, "
        f"{outcome.unmatched} without a match"
    )


def _statement_line(done: StatementImport) -> str:
    return f"{done.filename} ({done.format}): {done.rows} transactions, {done.new} new; {_matching_line(done.matching)}"


def _invoice_line(done: InvoiceImport) -> str:
    kept = f" ({done.kept_paid} keep the payments reconbot paired)" if done.kept_paid else ""
    return (
        f"{done.filename}: {done.rows} invoices, {done.new} new, {done.updated} updated{kept}; "
        f"{_matching_line(done.matching)}"
    )


def _print_overview(view: Overview, locale: str) -> None:
    payments = []
    for t in view.transactions:
        if t.allocations:
            invoices = ", ".join(a.invoice_number for a in t.allocations)
            confidence = None
        elif t.suggestions:
            invoices = " + ".join(t.suggestions[0].invoice_numbers)
            confidence = t.suggestions[0].confidence
        else:
            invoices, confidence = "", None
        payments.append(
            PaymentRow(
                str(t.id),
                t.booking_date,
                t.amount,
                t.currency,
                t.counterparty,
                t.status.value,
                invoices,
                confidence,
                t.flags,
            )
        )
    still_open = [OpenRow(i.number, i.direction, i.partner_name, i.due_date, i.open_amount, i.currency)
                  for i in view.open_invoices]  # fmt: skip
    write_tables(Console(), payments, still_open, locale)
