"""Sample issued invoices for a newcomer's first try: the sandbox bank pays them, so the workbench shows matches.

The sandbox bank pays each issued invoice on ``issue date + 0..20 days`` (``core.banks.sandbox``), so the
samples are issued within the last three weeks: most of their payments fall inside a first sync's history.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.domain import Direction, Invoice, InvoiceKind
from core.invoicing.model import SourceInvoice
from core.persistence.tables import InvoiceRecord, WorkspaceRecord
from core.services.invoice_sync import receive_invoices

SOURCE = "sample"
COUNT = 12
SPAN_DAYS = 20  # the oldest sample is issued this many days before today
PAYMENT_DAYS = 8

# Small firms and sole traders, with made-up tax numbers in each country's shape.
_PARTNERS = {
    "HU": (
        ("Kovács és Társa Bt.", "23456781-2-13"),
        ("Zöldkert Kft.", "14725836-2-41"),
        ("Nagy Péter e.v.", "68123457-1-33"),
        ("Tóth Építő Zrt.", "25836914-2-42"),
        ("Szabó Virág Kft.", "11223344-2-05"),
        ("Balaton Vendégház Bt.", "27364518-2-19"),
    ),
    "PL": (
        ("Ogrody Nowak sp. z o.o.", "5213456789"),
        ("Kowalski Budownictwo", "7781234560"),
        ("Zielona Dolina s.c.", "6762345671"),
        ("Wiśniewska Design", "9512345674"),
        ("Mazur Transport sp.j.", "8992345675"),
        ("Pracownia Lewandowski", "1182345676"),
    ),
}
_PREFIX = {"HU": "MINTA", "PL": "WZOR"}
# Gross amounts in whole units of a currency worth about a forint; other currencies are scaled down.
_HUF_AMOUNTS = (48260, 127000, 31750, 215900, 76200, 9850, 152400, 63500, 390000, 22860, 101600, 57150)
_SCALE = {"HUF": Decimal(1), "PLN": Decimal("0.011"), "EUR": Decimal("0.0025"), "CZK": Decimal("0.063")}


def sample_invoices(today: date, currency: str, country: str) -> list[Invoice]:
    """Return ``COUNT`` issued invoices in ``currency``, issued over the ``SPAN_DAYS`` days up to ``today``,
    to partners of ``country`` (Hungarian ones for a country without its own list)."""
    partners = _PARTNERS.get(country.upper(), _PARTNERS["HU"])
    prefix = _PREFIX.get(country.upper(), "SAMPLE")
    scale = _SCALE.get(currency.upper(), Decimal("0.0025"))
    invoices = []
    for n in range(COUNT):
        issued = today - timedelta(days=SPAN_DAYS - (SPAN_DAYS * n) // (COUNT - 1))
        name, tax_id = partners[n % len(partners)]
        gross = (Decimal(_HUF_AMOUNTS[n]) * scale).quantize(Decimal(1) if scale == 1 else Decimal("0.01"))
        number = f"{prefix}-{today.year}-{n + 1:03d}"
        invoices.append(
            Invoice(
                id=number,
                number=number,
                direction=Direction.ISSUED,
                kind=InvoiceKind.INVOICE,
                gross=gross,
                currency=currency.upper(),
                partner_name=name,
                partner_tax_id=tax_id,
                issue_date=issued,
                due_date=issued + timedelta(days=PAYMENT_DAYS),
            )
        )
    return invoices


def has_issued_invoices(engine: Engine, workspace_id: int) -> bool:
    """Return True when the workspace has any issued invoice (from any source)."""
    with Session(engine) as session:
        query = select(InvoiceRecord.id).where(
            col(InvoiceRecord.workspace_id) == workspace_id, col(InvoiceRecord.direction) == Direction.ISSUED
        )
        return session.exec(query.limit(1)).first() is not None


def add_sample_invoices(engine: Engine, workspace_id: int, today: date, *, actor: str) -> int:
    """Store the sample invoices (source ``sample``) unless the workspace has issued invoices; return how many
    were added (0 when it had some). Stored, matched and audited in one transaction."""
    if has_issued_invoices(engine, workspace_id):
        return 0
    with Session(engine) as session:
        workspace = session.get(WorkspaceRecord, workspace_id)
        if workspace is None:
            return 0
        currency, country = workspace.currency, workspace.country
    samples = [SourceInvoice(invoice) for invoice in sample_invoices(today, currency, country)]
    received = receive_invoices(engine, workspace_id, SOURCE, samples, actor=actor)
    return received.stored.new
