"""Sample issued invoices for a newcomer's first try: the sandbox bank pays them, so the workbench shows matches.

The sandbox bank pays each issued invoice on ``issue date + 0..20 days`` (``reconbot.core.banks.sandbox``), in a way
chosen by the invoice's number; ``_PLAN`` picks numbers and dates so that a first sync of 60 days brings
automatic pairings, suggestions for a person and noise, whatever the day.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.domain import Direction, Invoice, InvoiceKind
from reconbot.core.invoicing.model import SourceInvoice
from reconbot.core.persistence.tables import InvoiceRecord, WorkspaceRecord
from reconbot.core.services.invoicing.sync import receive_invoices

SOURCE = "sample"
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
# (number, partner, gross in forint-sized units, issued days ago). The sandbox bank picks each invoice's way of
# being paid from its number alone, so these numbers give a fixed mix: exact, sloppy and partial payments, an
# overpayment, a payment by the partner's accountant, and two amount-only payments of one partner's two equal
# invoices — which nobody can tell apart without a person, so the workbench always has suggestions to show.
# Issued 24–45 days ago, every payment (at most 22 days later) falls inside the first sync's history; the last
# two are recent and still open.
_PLAN = {
    "HU": ((2, 0, 48260, 40), (3, 1, 127000, 38), (4, 2, 31750, 36), (6, 3, 215900, 34), (1, 4, 76200, 45),
           (10, 5, 9850, 32), (12, 0, 152400, 30), (14, 1, 63500, 28), (17, 1, 63500, 26), (20, 2, 390000, 24),
           (21, 3, 22860, 22), (7, 4, 101600, 6), (8, 5, 57150, 2)),
    "PL": ((1, 0, 48260, 40), (3, 1, 127000, 38), (4, 2, 31750, 36), (5, 3, 215900, 34), (8, 4, 76200, 45),
           (10, 2, 9850, 32), (11, 0, 152400, 30), (28, 1, 63500, 28), (31, 1, 63500, 26), (14, 5, 390000, 24),
           (18, 3, 22860, 22), (12, 4, 101600, 6), (16, 5, 57150, 2)),
}  # fmt: skip
_SCALE = {"HUF": Decimal(1), "PLN": Decimal("0.011"), "EUR": Decimal("0.0025"), "CZK": Decimal("0.063")}


def _sample_invoices(today: date, currency: str, country: str) -> list[Invoice]:
    """Return the sample issued invoices in ``currency``, issued up to 45 days before ``today``, to partners of
    ``country`` (Hungarian ones for a country without its own list)."""
    plan_country = country.upper() if country.upper() in _PLAN else "HU"
    partners = _PARTNERS[plan_country]
    prefix = _PREFIX[plan_country]
    scale = _SCALE.get(currency.upper(), Decimal("0.0025"))
    invoices = []
    for n, partner, amount, days_ago in _PLAN[plan_country]:
        issued = today - timedelta(days=days_ago)
        name, tax_id = partners[partner]
        gross = (Decimal(amount) * scale).quantize(Decimal(1) if scale == 1 else Decimal("0.01"))
        number = f"{prefix}-{n:04d}"
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


def _has_issued_invoices(engine: Engine, workspace_id: int) -> bool:
    """Return True when the workspace has any issued invoice (from any source)."""
    with Session(engine) as session:
        query = select(InvoiceRecord.id).where(
            col(InvoiceRecord.workspace_id) == workspace_id, col(InvoiceRecord.direction) == Direction.ISSUED
        )
        return session.exec(query.limit(1)).first() is not None


def add_sample_invoices(engine: Engine, workspace_id: int, today: date, *, actor: str) -> int:
    """Store the sample invoices (source ``sample``) unless the workspace has issued invoices; return how many
    were added (0 when it had some). Stored, matched and audited in one transaction."""
    if _has_issued_invoices(engine, workspace_id):
        return 0
    with Session(engine) as session:
        workspace = session.get(WorkspaceRecord, workspace_id)
        if workspace is None:
            return 0
        currency, country = workspace.currency, workspace.country
    samples = [SourceInvoice(invoice) for invoice in _sample_invoices(today, currency, country)]
    received = receive_invoices(engine, workspace_id, SOURCE, samples, actor=actor)
    return received.stored.new
