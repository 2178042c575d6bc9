"""``reconbot invoicing …``: invoicing systems from the command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from decimal import Decimal, InvalidOperation

from reconbot.cli.books import cli_actor, open_books, workspace_for, workspace_named
from reconbot.core.errors import InputError, ReconciliationError
from reconbot.core.exact_json import JsonError, read_json
from reconbot.core.invoicing.sales import parse_sale
from reconbot.core.persistence.invoicing_tables import OperationStatus
from reconbot.core.persistence.tables import InvoicingMode
from reconbot.core.services.invoicing.lookup import invoice_ids_numbered
from reconbot.core.services.invoicing.overview import recent_operations, source_views, writes_waiting
from reconbot.core.services.invoicing.proformas import issue_final_invoice
from reconbot.core.services.invoicing.sales import invoice_sale, record_sale
from reconbot.core.services.invoicing.sources import OWN, InvoiceSources, save_credentials, update_settings
from reconbot.core.services.invoicing.sync import look_up_unknown_numbers, sync_all, sync_source
from reconbot.core.services.invoicing.write_back import OperationView, retry_operation, run_due
from reconbot.core.settings import public_url

SECRET_ENV = "RECONBOT_INVOICING_SECRET"
_SECRET_FIELD = {"billingo": "api_key", "fakturownia": "api_token", "szamlazz": "agent_key"}
_SECRET_PROMPT = {"billingo": "Billingo API key: ", "fakturownia": "Fakturownia API token: ",
                  "szamlazz": "Számlázz.hu agent key: "}  # fmt: skip


def setup(args: argparse.Namespace) -> int:
    """Store a system's credentials, encrypted; the secret comes from the environment or a prompt, never an argument."""
    values: dict[str, str] = {}
    if args.system != OWN:
        values[_SECRET_FIELD[args.system]] = os.environ.get(SECRET_ENV) or getpass.getpass(_SECRET_PROMPT[args.system])
        if args.system == "fakturownia":
            values["account"] = args.account or ""
        if args.block_id:
            values["block_id"] = args.block_id
        if args.base_url:
            values["base_url"] = args.base_url
    with open_books() as engine:
        workspace = workspace_named(engine, args.workspace)
        stored = save_credentials(engine, workspace.id, args.system, values, actor=cli_actor())
    print(f"{args.system}: connected (credentials stored encrypted)")
    if args.system == OWN:
        # Shown this once: it is stored encrypted and never printed again.
        print(f"\nSend signed events to:  {public_url()}/hooks/own/{workspace.slug}")
        print(f"Webhook secret:         {stored['webhook_secret']}")
        print("See README, 'Own invoicing system', for the events and how to sign them.")
    elif "push_token" in stored:
        print(f"\nIn Számlázz.hu, set the data push (Pénzügyi adatkapcsolat) address to:\n"
              f"  {public_url()}/hooks/szamlazz/{workspace.slug}/{stored['push_token']}")  # fmt: skip
    return 0


def list_sources(args: argparse.Namespace) -> int:
    """Print the connected systems, their last sync and error, and the writes waiting or failed."""
    with open_books() as engine:
        workspace = workspace_named(engine, args.workspace)
        sources = source_views(engine, workspace.id)
        writes = writes_waiting(engine, workspace.id)
    if not sources:
        print("no invoicing system is connected; run `reconbot invoicing setup SYSTEM`")
        return 0
    for source in sources:
        synced = source.last_success_at.strftime("%Y-%m-%d %H:%M UTC") if source.last_success_at else "never"
        print(f"{source.name}\tlast sync: {synced}" + (f"\terror: {source.last_error}" if source.last_error else ""))
    print(f"\nwrites waiting: {writes.waiting}, failed: {writes.failed}")
    print(f"final invoice of a paid proforma: {workspace.proforma_mode.value}; "
          f"invoice of a paid sale: {workspace.sale_mode.value}")  # fmt: skip
    return 0


def check(args: argparse.Namespace) -> int:
    """Make one harmless authenticated call to the system and say what answered."""
    with open_books() as engine:
        client = InvoiceSources(engine).source(workspace_for(engine, args.workspace), args.system)

        async def ask() -> str:
            try:
                return await client.check()
            finally:
                await client.aclose()

        print(f"{args.system}: {asyncio.run(ask())}")
    return 0


def sync(args: argparse.Namespace) -> int:
    """Pull invoices now and match; a system without a list call looks up the numbers bank references quote."""
    with open_books() as engine:
        sources = InvoiceSources(engine)
        workspace_id = workspace_for(engine, args.workspace)
        if args.system == "szamlazz":
            found = asyncio.run(look_up_unknown_numbers(sources, workspace_id, "szamlazz", actor=cli_actor()))
            print(f"szamlazz: {found} invoice(s) found by the numbers bank references quote")
            return 0
        if args.system:
            results = [asyncio.run(sync_source(sources, workspace_id, args.system, actor=cli_actor()))]
        else:
            results = asyncio.run(sync_all(sources, workspace_id, actor=cli_actor()))
    for result in results:
        if result.error:
            print(f"{result.source}: {result.error}", file=sys.stderr)
            continue
        stored, matched = result.received.stored, result.received.matching
        print(f"{result.source}: {stored.new} new, {stored.updated} updated; {matched.matched} payment(s) paired")
        for conflict in stored.conflicts:
            print(f"  {conflict}")
    return 1 if any(r.error for r in results) else 0


def settings(args: argparse.Namespace) -> int:
    """Show the invoicing settings, changing the ones given first."""
    vat_rate = None
    if args.vat_rate is not None:
        try:
            vat_rate = Decimal(args.vat_rate)
        except InvalidOperation:
            raise InputError("--vat-rate", "", f"{args.vat_rate!r} is not a number") from None
    with open_books() as engine:
        workspace = update_settings(
            engine,
            workspace_for(engine, args.workspace),
            actor=cli_actor(),
            proforma_mode=InvoicingMode(args.proforma_mode) if args.proforma_mode else None,
            sale_mode=InvoicingMode(args.sale_mode) if args.sale_mode else None,
            sale_source=args.sale_source,
            vat_rate=vat_rate,
        )
    print(f"final invoice of a paid proforma: {workspace.proforma_mode.value}")
    print(f"invoice of a paid sale:           {workspace.sale_mode.value}")
    print(f"sale invoices issued in:          {workspace.sale_invoicing_source or '(the only connected system)'}")
    print(f"VAT of sales without items:       {workspace.vat_rate if workspace.vat_rate is not None else 'country'}")
    return 0


def operations(args: argparse.Namespace) -> int:
    """List the writes to invoicing systems: waiting, running and failed ones (all with --all)."""
    with open_books() as engine:
        found = recent_operations(engine, workspace_for(engine, args.workspace), finished=args.all)
    lines = [_line(view) for view in found]
    print("\n".join(lines) if lines else "no writes waiting or failed")
    return 0


def write_back(args: argparse.Namespace) -> int:
    """Send every due write now."""
    with open_books() as engine:
        done = asyncio.run(run_due(InvoiceSources(engine), workspace_id=workspace_for(engine, args.workspace)))
    for view in done:
        print(_line(view))
    print(f"{len(done)} write(s) attempted")
    return 1 if any(v.status is OperationStatus.FAILED for v in done) else 0


def retry(args: argparse.Namespace) -> int:
    """Give a failed write a fresh round of attempts and run it now."""
    with open_books() as engine:
        sources = InvoiceSources(engine)
        workspace_id = workspace_for(engine, args.workspace)
        retry_operation(sources, workspace_id, args.operation, actor=cli_actor())
        done = asyncio.run(run_due(sources, workspace_id=workspace_id))
    for view in done:
        print(_line(view))
    return 0


def final(args: argparse.Namespace) -> int:
    """Issue the final invoice of the fully paid proforma numbered ``args.proforma``."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        found = invoice_ids_numbered(engine, workspace_id, args.proforma)
        if not found:
            raise ReconciliationError(f"there is no invoice {args.proforma}")
        view = asyncio.run(issue_final_invoice(InvoiceSources(engine), workspace_id, found[0], actor=cli_actor()))
    return _report(view, f"final invoice of {args.proforma}")


def sale(args: argparse.Namespace) -> int:
    """Record a reported sale from a JSON file; in auto mode a fully paid one is invoiced now."""
    raw = sys.stdin.buffer.read() if str(args.file) == "-" else args.file.read_bytes()
    try:
        data = read_json(raw)
    except JsonError as exc:
        raise InputError(str(args.file), "", f"not JSON ({exc})") from None
    reported = parse_sale(data)
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        recorded = record_sale(engine, workspace_id, reported, origin=args.origin, actor=cli_actor())
        if recorded.invoiced:
            print(f"sale {reported.id} has its invoice already; nothing changed")
            return 0
        if not recorded.fully_paid:
            print(f"sale {reported.id} recorded (id {recorded.sale_id}); not fully paid, so no invoice yet")
            return 0
        if recorded.operation_id is None:
            print(f"sale {reported.id} recorded (id {recorded.sale_id}); manual mode: issue its invoice with "
                  f"`reconbot invoicing invoice-sale {recorded.sale_id}`")  # fmt: skip
            return 0
        view = asyncio.run(invoice_sale(InvoiceSources(engine), workspace_id, recorded.sale_id, actor=cli_actor()))
    return _report(view, f"invoice of sale {reported.id}")


def invoice_sale_command(args: argparse.Namespace) -> int:
    """Issue the invoice of a recorded, fully paid sale."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        view = asyncio.run(invoice_sale(InvoiceSources(engine), workspace_id, args.sale, actor=cli_actor()))
    return _report(view, f"invoice of sale {args.sale}")


def _report(view: OperationView, what: str) -> int:
    if view.status is OperationStatus.DONE:
        print(f"{what}: {view.result.get('number')} issued in {view.source}")
        return 0
    if view.status is OperationStatus.FAILED:
        print(f"{what}: failed: {view.last_error} (retry with `reconbot invoicing retry {view.id}`)", file=sys.stderr)
        return 1
    print(f"{what}: not issued yet ({view.last_error or view.status.value}); it is retried automatically "
          f"(operation {view.id})")  # fmt: skip
    return 0


def _line(view: OperationView) -> str:
    subject = view.payload.get("document", view.payload.get("proforma", {})).get("number") or view.payload.get("sale")
    error = f"\t{view.last_error}" if view.last_error else ""
    fields = (view.id, view.status.value, view.source, view.kind.value, subject, f"attempts {view.attempts}")
    return "\t".join(str(f) for f in fields) + error
