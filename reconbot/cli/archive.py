"""``reconbot archive …``: issued invoices' PDFs with their versions, searchable, every download logged."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from reconbot.cli.books import cli_actor, open_books, workspace_for
from reconbot.core.archive.storage import storage_from_settings
from reconbot.core.errors import ReconciliationError
from reconbot.core.money import format_amount
from reconbot.core.persistence.archive_tables import ArchiveSource, ArchiveState
from reconbot.core.services.archive.access import download, downloads, verify_all
from reconbot.core.services.archive.filing import ArchivedDocument, archive_pdf, history
from reconbot.core.services.archive.filing import approve as approve_document
from reconbot.core.services.archive.filing import reject as reject_document
from reconbot.core.services.archive.search import search
from reconbot.core.services.handoff.marking import invoice_by_number


def _now() -> datetime:
    return datetime.now(UTC)


def _state(document: ArchivedDocument) -> str:
    return document.state.value.replace("_", " ")


def add(args: argparse.Namespace) -> int:
    """Archive a PDF as the invoice's next version (identical bytes make none)."""
    data = args.file.read_bytes()
    storage = storage_from_settings()
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        invoice_id = invoice_by_number(engine, workspace_id, args.invoice)
        result = archive_pdf(engine, storage, workspace_id, invoice_id, data, source=ArchiveSource.UPLOAD,
                             actor=cli_actor(), now=_now(), name=str(args.file))  # fmt: skip
    document = result.document
    if not result.created:
        print(f"{args.invoice}: identical to version {document.version}; nothing new stored")
    else:
        waits = "; run `reconbot archive approve` to archive it" if document.state != ArchiveState.ARCHIVED else ""
        print(f"{args.invoice}: version {document.version} stored ({_state(document)}){waits}")
    print(f"  sha256 {document.sha256}, {document.size} bytes")
    return 0


def search_command(args: argparse.Namespace) -> int:
    """List the archived invoices whose number, partner, amounts, dates or PDF text hold every word."""
    with open_books() as engine:
        hits = search(engine, workspace_for(engine, args.workspace), " ".join(args.words), limit=args.limit)
    if not hits:
        print("nothing found")
    for hit in hits:
        paid = f"\tpaid by transaction {', '.join(map(str, hit.transaction_ids))}" if hit.transaction_ids else ""
        print(f"{hit.number}\t{hit.issue_date.isoformat()}\t{hit.partner_name}\t{format_amount(hit.gross)} "
              f"{hit.currency}\tversion {hit.version}{paid}")  # fmt: skip
    return 0


def history_command(args: argparse.Namespace) -> int:
    """Print every version of the invoice's PDF: state, origin, hash, and who downloaded it."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        versions = history(engine, workspace_id, invoice_by_number(engine, workspace_id, args.number))
        logs = {v.id: downloads(engine, workspace_id, v.id) for v in versions}
    if not versions:
        print(f"{args.number}: nothing archived")
    for v in versions:
        decided = f" by {v.decided_by} {v.decided_at:%Y-%m-%d %H:%M}" if v.decided_at else ""
        print(f"version {v.version}\t{_state(v)}{decided}\t{v.source.value} by {v.created_by} "
              f"{v.created_at:%Y-%m-%d %H:%M} UTC\tsha256 {v.sha256[:16]}…\t{v.size} bytes")  # fmt: skip
        for log in logs[v.id]:
            print(f"  downloaded by {log.actor} {log.at:%Y-%m-%d %H:%M} UTC")
    return 0


def get(args: argparse.Namespace) -> int:
    """Write a version (the latest by default) to a new file, after checking its hash; the download is logged."""
    if args.output.exists():
        raise ReconciliationError(f"{args.output} exists; choose another --output")
    storage = storage_from_settings()
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        versions = history(engine, workspace_id, invoice_by_number(engine, workspace_id, args.number))
        chosen = [v for v in versions if args.version in (None, v.version)][-1:]
        if not chosen:
            raise ReconciliationError(f"{args.number} has no archived version {args.version or ''}".rstrip())
        data = download(engine, storage, workspace_id, chosen[0].id, actor=cli_actor(), now=_now())
    with args.output.open("xb") as file:
        file.write(data)
    print(f"{args.output}: version {chosen[0].version} of {args.number}, {len(data)} bytes, hash checked")
    return 0


def verify(args: argparse.Namespace) -> int:
    """Check every archived file of the workspace against its hash; exit status 1 when one is wrong."""
    storage = storage_from_settings()
    with open_books() as engine:
        report = verify_all(engine, storage, workspace_for(engine, args.workspace), actor=cli_actor())
    for document, problem in report.problems:
        print(f"{document.invoice_number} version {document.version}: {problem}")
    print(f"{report.checked} file(s) checked, {len(report.problems)} with problems")
    return 1 if report.problems else 0


def approve(args: argparse.Namespace) -> int:
    """Archive the invoice's version waiting for approval."""
    return _decide(args, approve=True)


def reject(args: argparse.Namespace) -> int:
    """Refuse the invoice's version waiting for approval."""
    return _decide(args, approve=False)


def _decide(args: argparse.Namespace, *, approve: bool) -> int:
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        versions = history(engine, workspace_id, invoice_by_number(engine, workspace_id, args.number))
        waiting = [v for v in versions if v.state == ArchiveState.AWAITING_APPROVAL]
        if not waiting:
            raise ReconciliationError(f"no version of {args.number} waits for approval")
        decide = approve_document if approve else reject_document
        for version in waiting:
            decide(engine, workspace_id, version.id, actor=cli_actor(), now=_now())
    print(f"{args.number}: version {', '.join(str(v.version) for v in waiting)} "
          f"{'archived' if approve else 'rejected'}")  # fmt: skip
    return 0
