"""Invoice PDFs: fetched from the invoicing system a stored invoice came from.

The own system has no API reconbot calls: it sends each PDF with its invoice event
(``reconbot.core.invoicing.own_system``), and a CSV import has no system behind it at all; for
those, fetching is refused with a permanent ``ProviderError`` saying so.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.errors import ProviderError
from reconbot.core.invoicing.model import DocumentRef
from reconbot.core.invoicing.source import SOURCES
from reconbot.core.persistence.tables import InvoiceRecord
from reconbot.core.services.invoicing.sources import OWN, InvoiceSources


async def fetch_invoice_pdf(sources: InvoiceSources, workspace_id: int, invoice_id: int) -> bytes:
    """Return the PDF of the workspace's stored invoice ``invoice_id``, fetched from the system it came from.

    Raises ``ProviderError``: permanent when the workspace has no such invoice, when it came from the own
    system (which pushes its PDFs) or a file import, or when its system is not set up; otherwise whatever
    the system's ``fetch_pdf`` raises (permanent for a document the system does not know, temporary for
    "not ready yet" and outages).
    """
    with Session(sources.engine) as session:
        record = session.get(InvoiceRecord, invoice_id)
    if record is None or record.workspace_id != workspace_id:
        raise ProviderError(f"invoice {invoice_id} not found in this workspace", permanent=True)
    if record.source == OWN:
        raise ProviderError(
            f"invoice {record.number} came from the own invoicing system, which sends its PDF with the invoice "
            "event (data.pdf_base64); reconbot cannot fetch it",
            permanent=True,
        )
    if record.source not in SOURCES:
        raise ProviderError(
            f"invoice {record.number} came from a {record.source} file import: there is no invoicing system to "
            "fetch its PDF from",
            permanent=True,
        )
    client = sources.source(workspace_id, record.source)
    try:
        return await client.fetch_pdf(DocumentRef(record.external_id or "", record.number))
    finally:
        await client.aclose()


def stored_number(engine: Engine, workspace_id: int, source: str, external_id: str) -> str | None:
    """Return the number of the invoice ``source`` knows as ``external_id`` in the workspace, or None."""
    query = select(InvoiceRecord.number).where(
        col(InvoiceRecord.workspace_id) == workspace_id,
        col(InvoiceRecord.source) == source,
        col(InvoiceRecord.external_id) == external_id,
    )
    with Session(engine) as session:
        return session.exec(query).first()
