"""The database tables, as SQLModel classes; ``metadata`` is what the migrations build.

Conventions, so every table reads the same:

* integer autoincrement ``id`` (the outbox uses UUID text, so events can be
  referred to before they are stored);
* ``created_at`` on every row, aware UTC;
* money is ``Decimal`` in a ``Money`` column, never float;
* enums are stored as their plain string values (no database ENUM types);
* every constraint and index has a name (``NAMING_CONVENTION``), which SQLite
  needs before a later migration can drop or change it.

Every foreign key column is indexed, alone or as the first column of a composite
index or unique constraint. New tables must subclass ``Record`` (not ``SQLModel``) so that
they land in ``metadata`` and the migrations can see them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from reconbot.core.domain import AllocationMethod, Direction, InvoiceKind, InvoiceStatus, TransactionStatus
from reconbot.core.money import ZERO
from reconbot.core.persistence.types import JSONDocument, Money, StrEnumType, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Our own MetaData rather than SQLModel's global one: it carries the naming convention, and
# Alembic compares exactly reconbot's tables, whatever else gets imported into the process.
metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def new_uuid() -> str:
    """Return a fresh random UUID as text (the outbox event id)."""
    return str(uuid.uuid4())


class Language(StrEnum):
    HU = "hu"
    PL = "pl"
    EN = "en"


class AliasKind(StrEnum):
    """What a payer alias matches on."""

    IBAN = "iban"
    NAME = "name"


class InvoicingMode(StrEnum):
    """Whether an invoice reconbot may issue (final invoice of a paid proforma, invoice of a paid sale)
    is issued at once or waits for a person's button press."""

    AUTO = "auto"
    MANUAL = "manual"


class ImportKind(StrEnum):
    STATEMENT = "statement"
    INVOICES = "invoices"


class Record(SQLModel, registry=registry(metadata=metadata)):
    """Base of every reconbot table (binds it to ``metadata``)."""


def _created_at() -> Any:
    # A fresh FieldInfo per table: SQLModel turns each into that table's own Column.
    return Field(default_factory=utcnow, sa_type=UTCDateTime)


def _currency() -> Any:
    return Field(sa_type=String(3))


class WorkspaceRecord(Record, table=True):
    """One business using reconbot; everything else belongs to a workspace."""

    __tablename__ = "workspace"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True)
    name: str
    country: str = Field(sa_type=String(2))  # ISO 3166-1 alpha-2
    currency: str = Field(default="HUF", sa_type=String(3))  # ISO 4217, the books' currency
    language: Language = Field(sa_type=StrEnumType(Language))
    timezone: str = "Europe/Budapest"  # IANA name
    auto_match: bool = True
    # A payment short of its invoice by up to this share of the open amount is read as a bank fee (scored like a
    # full payment, flagged); 0.03 = 3 %.
    amount_tolerance: Decimal = Field(default=Decimal("0.03"), sa_type=Money)
    # Bank feeds: when to sync (local times in ``timezone``, or "hourly"), how many days before a
    # consent ends to remind, and how far back a new connection's first sync reaches.
    sync_times: str = "11:45,15:15,18:30"
    consent_reminder_days: str = "8,2"
    feed_history_days: int = 7
    # Invoicing: final invoices of paid proformas and invoices of paid sales, issued at once or on a button;
    # ``sale_invoicing_source`` names the system sale invoices are issued in ("" = the only one connected).
    proforma_mode: InvoicingMode = Field(default=InvoicingMode.MANUAL, sa_type=StrEnumType(InvoicingMode))
    sale_mode: InvoicingMode = Field(default=InvoicingMode.AUTO, sa_type=StrEnumType(InvoicingMode))
    sale_invoicing_source: str = ""
    vat_rate: Decimal | None = Field(default=None, sa_type=Money)  # VAT % of sales without lines; None: the country's
    created_at: datetime = _created_at()


class BankAccountRecord(Record, table=True):
    """An account statements come from; ``iban`` is normalised and "" for files that name no account."""

    __tablename__ = "bank_account"
    __table_args__ = (UniqueConstraint("workspace_id", "iban", "currency"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    iban: str = Field(default="", sa_type=String(34))
    currency: str = _currency()
    name: str = ""
    created_at: datetime = _created_at()
    # A bank feed's account (None for accounts known only from statement files); see ``bank_tables``.
    connection_id: int | None = Field(default=None, foreign_key="bank_connection.id", index=True)
    provider_uid: str = ""  # the provider's id of the account
    synced_through: date | None = None  # the last day the feed has fetched completely
    last_sync_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", sa_type=Text)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)  # first failure of the current run
    # Calls spent today on this account, against the bank's daily allowance (PSD2 allows 4 unattended).
    calls_on: date | None = None
    calls_made: int = 0
    call_limit: int | None = None  # as the provider last reported it


class BankTransactionRecord(Record, table=True):
    """One stored bank transaction. ``amount`` is signed (+ came in); ``allocated`` is a magnitude.

    ``dedupe_key`` (see ``reconbot.core.statements.identity``) keeps re-imports from duplicating it;
    ``external_id`` is the id users see and type.
    """

    __tablename__ = "bank_transaction"
    __table_args__ = (
        UniqueConstraint("bank_account_id", "dedupe_key"),
        # The workbench: "this workspace's booked unmatched transactions, newest first" is one ordered range
        # (keyset-paged by date and id), and the per-status counts under an account or date filter read the
        # index alone.
        Index(
            "ix_bank_transaction_workbench",
            "workspace_id",
            "pending",
            "status",
            "booking_date",
            "id",
            "bank_account_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    bank_account_id: int = Field(foreign_key="bank_account.id")
    import_batch_id: int | None = Field(default=None, foreign_key="import_batch.id", index=True)
    dedupe_key: str
    external_id: str
    bank_id: str = ""
    booking_date: date
    value_date: date | None = None
    amount: Decimal = Field(sa_type=Money)
    currency: str = _currency()
    counterparty_name: str = ""
    counterparty_iban: str = ""
    reference: str = Field(default="", sa_type=Text)
    end_to_end_id: str = ""
    structured_reference: str = ""
    raw: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
    # Reported by a bank feed but not booked yet: shown, never matched, replaced by its booked version.
    pending: bool = False
    status: TransactionStatus = Field(default=TransactionStatus.UNMATCHED, sa_type=StrEnumType(TransactionStatus))
    allocated: Decimal = Field(default=ZERO, sa_type=Money)
    # What the last matching noticed (``reconbot.core.matching.model.Flag`` values): partial payment, paid twice…
    flags: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    ignored_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ignored_by: str | None = None
    created_at: datetime = _created_at()


class InvoiceRecord(Record, table=True):
    """An invoice of any kind and direction. ``gross`` is negative for credit notes; ``paid_amount`` follows.

    ``natural_key`` identifies the invoice across imports of the same source;
    ``external_id`` is the id in the source system (None when it has none).
    """

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("workspace_id", "natural_key"),
        # NULL external ids never collide, so invoices without one can coexist.
        UniqueConstraint("workspace_id", "source", "external_id"),
        Index("ix_invoice_workspace_number", "workspace_id", "number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    direction: Direction = Field(sa_type=StrEnumType(Direction))
    kind: InvoiceKind = Field(default=InvoiceKind.INVOICE, sa_type=StrEnumType(InvoiceKind))
    number: str
    order_number: str = ""
    partner_name: str = ""
    partner_tax_id: str = ""
    partner_iban: str = ""
    partner_email: str = ""
    issue_date: date
    due_date: date | None = None
    gross: Decimal = Field(sa_type=Money)
    currency: str = _currency()
    paid_amount: Decimal = Field(default=ZERO, sa_type=Money)
    status: InvoiceStatus = Field(default=InvoiceStatus.ISSUED, sa_type=StrEnumType(InvoiceStatus))
    source: str  # where it came from: "csv", "billingo", "fakturownia", "szamlazz", "own"
    external_id: str | None = None
    natural_key: str
    created_at: datetime = _created_at()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow})


class AllocationRecord(Record, table=True):
    """Money from one transaction booked to one invoice; ``amount`` is a positive magnitude.

    Allocations are never deleted: undoing one sets ``undone_at``/``undone_by``, so the
    history of who paired what stays visible.
    """

    __tablename__ = "allocation"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    transaction_id: int = Field(foreign_key="bank_transaction.id", index=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    amount: Decimal = Field(sa_type=Money)
    currency: str = _currency()
    method: AllocationMethod = Field(sa_type=StrEnumType(AllocationMethod))
    created_by: str  # the actor: "engine", "slack:U123", "telegram:456", "cli:anna"
    created_at: datetime = _created_at()
    undone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    undone_by: str | None = None


class MatchSuggestionRecord(Record, table=True):
    """One ranked candidate the engine proposed for a transaction, waiting for a person.

    ``amounts`` are decimal strings, parallel to ``invoice_ids``; ``reasons`` are
    ``{"code", "text", "args"}`` objects; ``flags`` are ``reconbot.core.matching.model.Flag`` values.
    """

    __tablename__ = "match_suggestion"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    transaction_id: int = Field(foreign_key="bank_transaction.id", index=True)
    rank: int
    invoice_ids: list[int] = Field(default_factory=list, sa_type=JSONDocument)
    amounts: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    confidence: Decimal = Field(sa_type=Money)  # 0..1, a Decimal like every stored number
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONDocument)
    flags: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    created_at: datetime = _created_at()


class AuditEventRecord(Record, table=True):
    """Who did what to which entity, and when; append-only."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_workspace_created", "workspace_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    actor: str
    action: str
    entity_type: str
    entity_id: str  # text, because outbox events have UUID ids
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    created_at: datetime = _created_at()


class OutboxEventRecord(Record, table=True):
    """A notification to deliver to chat, written in the same transaction as the change it reports.

    ``kind`` is an open set (payment_matched, partial_payment, overpayment,
    unmatched_transaction, possible_double_payment, proforma_paid, …); ``dedupe_key``
    makes writing the same event twice a constraint violation instead of a double message.
    """

    __tablename__ = "outbox_event"
    __table_args__ = (UniqueConstraint("workspace_id", "dedupe_key"),)

    id: str = Field(default_factory=new_uuid, primary_key=True, sa_type=String(36))
    workspace_id: int = Field(foreign_key="workspace.id")
    kind: str
    dedupe_key: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    created_at: datetime = _created_at()
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PayerAliasRecord(Record, table=True):
    """What a confirmed pairing taught us: this IBAN or payer name pays for this partner.

    ``value`` is normalised (IBAN without spaces, name casefolded) by whoever writes it.
    """

    __tablename__ = "payer_alias"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "value", "partner_key"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    kind: AliasKind = Field(sa_type=StrEnumType(AliasKind))
    value: str
    partner_key: str
    partner_name: str = ""
    source_allocation_id: int | None = Field(default=None, foreign_key="allocation.id", index=True)
    created_at: datetime = _created_at()


class ImportBatchRecord(Record, table=True):
    """One imported file: what it was, who brought it, how many rows were new."""

    __tablename__ = "import_batch"
    # Leads with the foreign key, and answers "was this exact file imported before?".
    __table_args__ = (Index("ix_import_batch_workspace_sha256", "workspace_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    kind: ImportKind = Field(sa_type=StrEnumType(ImportKind))
    filename: str
    sha256: str = Field(sa_type=String(64))
    format: str  # the detected format: camt.053, mt940, csv-kh, invoices-csv, …
    row_count: int
    new_count: int
    actor: str
    created_at: datetime = _created_at()


# The bank-feed tables live in their own module; importing it here puts them in ``metadata``
# wherever the tables are imported (Alembic's env, the schema tests).
from reconbot.core.persistence import (  # noqa: E402, F401
    account_tables,
    archive_tables,
    bank_tables,
    chat_tables,
    handoff_tables,
    invoicing_tables,
)
