"""The archive's full-text index and search: number, partner, amounts, dates and PDF text of each invoice.

The index (``archive_text``, made by migration 0008) holds one row per invoice: its latest archived
version. SQLite searches it with FTS5 ``MATCH`` (diacritics folded); PostgreSQL with
``to_tsvector @@ plainto_tsquery`` in the 'simple' configuration (no stemming, accents kept).
Every word typed must occur (AND); words are matched whole, on both dialects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine, bindparam, text
from sqlmodel import Session, col, select

from reconbot.core.domain import InvoiceKind
from reconbot.core.money import format_amount
from reconbot.core.persistence.archive_tables import ArchivedDocumentRecord, ArchiveState
from reconbot.core.persistence.bulk import chunks
from reconbot.core.persistence.tables import AllocationRecord, InvoiceRecord

DEFAULT_LIMIT = 20

_SQLITE_SEARCH = text(
    "SELECT d.id FROM archive_text AS t JOIN archived_document AS d ON d.id = t.rowid "
    "JOIN invoice AS i ON i.id = d.invoice_id "
    "WHERE archive_text MATCH :query AND d.workspace_id = :workspace AND d.state = 'archived' "
    "ORDER BY i.issue_date DESC, i.id DESC LIMIT :limit"
)
_POSTGRES_SEARCH = text(
    "SELECT d.id FROM archive_text AS t JOIN archived_document AS d ON d.id = t.document_id "
    "JOIN invoice AS i ON i.id = d.invoice_id "
    "WHERE t.vector @@ plainto_tsquery('simple', :query) AND d.workspace_id = :workspace AND d.state = 'archived' "
    "ORDER BY i.issue_date DESC, i.id DESC LIMIT :limit"
)
_SQLITE_INSERT = text(
    "INSERT INTO archive_text (rowid, number, partner, amounts, dates, body) "
    "VALUES (:id, :number, :partner, :amounts, :dates, :body)"
)
# Weighted, so a ranking can later prefer the number over a word in the body.
_POSTGRES_INSERT = text(
    "INSERT INTO archive_text (document_id, vector) VALUES (:id, "
    "setweight(to_tsvector('simple', :number), 'A') || setweight(to_tsvector('simple', :partner), 'B') || "
    "setweight(to_tsvector('simple', :amounts || ' ' || :dates), 'C') || setweight(to_tsvector('simple', :body), 'D'))"
)


@dataclass(frozen=True, slots=True)
class ArchiveHit:
    """An invoice found in the archive: the invoice, its latest archived PDF version, its partner, and the ids
    of the bank transactions that paid it (show those to bank-data roles only)."""

    invoice_id: int
    number: str
    kind: InvoiceKind
    partner_name: str
    partner_tax_id: str
    issue_date: date
    gross: Decimal
    currency: str
    document_id: int
    version: int
    archived_at: datetime
    transaction_ids: tuple[int, ...]


def reindex_changed(session: Session, invoice_ids: list[int]) -> None:
    """Refresh the index rows of those ``invoice_ids`` that have archived PDFs (their number, partner, amounts or
    dates may have changed in the invoicing system). Call it in the transaction that changed them."""
    if not invoice_ids:
        return
    documents = ArchivedDocumentRecord
    for part in chunks(invoice_ids):  # an import may change 100,000 invoices; databases cap bound parameters
        archived = session.exec(
            select(documents.invoice_id).where(col(documents.invoice_id).in_(part)).distinct()
        ).all()
        for invoice_id in archived:
            index_invoice(session, invoice_id)


def index_invoice(session: Session, invoice_id: int) -> None:
    """Make the index hold the invoice's latest archived version, or nothing when no version is archived.

    Call it in the transaction that archives, approves or rejects a version (or changes the invoice).
    """
    documents = ArchivedDocumentRecord
    # The invoice's row lock serialises everyone who re-indexes it (a new version, an approval, a sync): without
    # it two of them could each delete what they saw and insert their own row (PostgreSQL, READ COMMITTED).
    session.exec(select(InvoiceRecord.id).where(col(InvoiceRecord.id) == invoice_id).with_for_update()).first()
    ids = [i for i in session.exec(select(documents.id).where(col(documents.invoice_id) == invoice_id)).all()]
    sqlite = session.get_bind().dialect.name == "sqlite"
    if ids:
        key = "rowid" if sqlite else "document_id"
        delete = text(f"DELETE FROM archive_text WHERE {key} IN :ids").bindparams(bindparam("ids", expanding=True))
        session.execute(delete, {"ids": ids})
    latest = session.exec(
        select(documents)
        .where(col(documents.invoice_id) == invoice_id, col(documents.state) == ArchiveState.ARCHIVED)
        .order_by(col(documents.version).desc())
        .limit(1)
    ).first()
    invoice = session.get(InvoiceRecord, invoice_id)
    if latest is None or invoice is None:
        return
    gross = abs(invoice.gross)
    # "127000.00" as stored and "127000" as people type a whole amount.
    amounts = dict.fromkeys([format_amount(gross)] + ([format_amount(gross.quantize(Decimal(1)))]
                                                       if gross == gross.to_integral_value() else []))  # fmt: skip
    dates = [d.isoformat() for d in (invoice.issue_date, invoice.due_date) if d is not None]
    row = {
        "id": latest.id,
        "number": " ".join(filter(None, (invoice.number, invoice.order_number))),
        "partner": " ".join(filter(None, (invoice.partner_name, invoice.partner_tax_id, invoice.partner_email))),
        "amounts": " ".join([*amounts, invoice.currency]),
        "dates": " ".join(dates),
        "body": latest.text,
    }
    session.execute(_SQLITE_INSERT if sqlite else _POSTGRES_INSERT, row)


def search(engine: Engine, workspace_id: int, query: str, *, limit: int = DEFAULT_LIMIT) -> list[ArchiveHit]:
    """Return up to ``limit`` archived invoices of the workspace whose number, partner, amounts, dates or PDF text
    contain every word of ``query``, newest issue date first. A query without letters or digits finds nothing.
    Versions waiting for approval, rejected ones and older versions are not searched."""
    # Control characters (a NUL above all) are no part of any word, and the databases refuse them in a query.
    printable = "".join(c if c.isprintable() else " " for c in query)
    words = [w for w in printable.split() if any(c.isalnum() for c in w)]
    if not words or limit < 1:
        return []
    with Session(engine) as session:
        if engine.dialect.name == "sqlite":
            # Each word quoted: FTS5 would read AND, OR, NEAR, "-" or ":" in a word as its query syntax.
            params = {"query": " ".join('"' + w.replace('"', '""') + '"' for w in words)}
            statement = _SQLITE_SEARCH
        else:
            params, statement = {"query": " ".join(words)}, _POSTGRES_SEARCH
        found = [row[0] for row in session.execute(statement, {**params, "workspace": workspace_id, "limit": limit})]
        if not found:
            return []
        documents = {d.id: d for d in session.exec(select(ArchivedDocumentRecord).where(
            col(ArchivedDocumentRecord.id).in_(found))).all()}  # fmt: skip
        invoice_ids = [d.invoice_id for d in documents.values()]
        invoices = {i.id: i for i in session.exec(select(InvoiceRecord).where(col(InvoiceRecord.id).in_(invoice_ids)))}
        paid_by: dict[int, set[int]] = defaultdict(set)
        for invoice_id, transaction_id in session.exec(
            select(AllocationRecord.invoice_id, AllocationRecord.transaction_id).where(
                col(AllocationRecord.invoice_id).in_(invoice_ids), col(AllocationRecord.undone_at).is_(None))
        ):  # fmt: skip
            paid_by[invoice_id].add(transaction_id)
    hits = []
    for document_id in found:
        document = documents[document_id]
        invoice = invoices[document.invoice_id]
        assert invoice.id is not None
        hits.append(ArchiveHit(invoice.id, invoice.number, invoice.kind, invoice.partner_name, invoice.partner_tax_id,
                               invoice.issue_date, invoice.gross, invoice.currency, document_id, document.version,
                               document.created_at, tuple(sorted(paid_by[invoice.id]))))  # fmt: skip
    return hits
