"""Initial schema: workspaces, bank accounts and transactions, invoices, allocations and their history.

Revision ID: 0001
Revises:
Create Date: 2025-11-21

Written by hand to match core/persistence/tables.py exactly (tests compare the two).
Column types are spelled as plain SQLAlchemy DDL, not imported from
reconbot.core.persistence.types, so this file keeps its meaning if those classes change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Money: exact NUMERIC on PostgreSQL, decimal text on SQLite (whose NUMERIC would be a float).
MONEY = sa.Numeric().with_variant(sa.Text(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CURRENCY = sa.String(length=3)


def upgrade() -> None:
    op.create_table(
        "workspace",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", CURRENCY, nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("auto_match", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace")),
        sa.UniqueConstraint("slug", name=op.f("uq_workspace_slug")),
    )

    op.create_table(
        "bank_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("currency", CURRENCY, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_bank_account_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_account")),
        sa.UniqueConstraint(
            "workspace_id", "iban", "currency", name=op.f("uq_bank_account_workspace_id_iban_currency")
        ),
    )

    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_import_batch_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
    )
    op.create_index("ix_import_batch_workspace_sha256", "import_batch", ["workspace_id", "sha256"])

    op.create_table(
        "bank_transaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("bank_account_id", sa.Integer(), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=False),
        sa.Column("bank_id", sa.String(), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", CURRENCY, nullable=False),
        sa.Column("counterparty_name", sa.String(), nullable=False),
        sa.Column("counterparty_iban", sa.String(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("end_to_end_id", sa.String(), nullable=False),
        sa.Column("structured_reference", sa.String(), nullable=False),
        sa.Column("raw", JSON_DOCUMENT, nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("allocated", MONEY, nullable=False),
        sa.Column("flags", JSON_DOCUMENT, nullable=False),
        sa.Column("ignored_at", UTC_DATETIME, nullable=True),
        sa.Column("ignored_by", sa.String(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_bank_transaction_workspace_id_workspace")
        ),
        sa.ForeignKeyConstraint(
            ["bank_account_id"],
            ["bank_account.id"],
            name=op.f("fk_bank_transaction_bank_account_id_bank_account"),
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batch.id"],
            name=op.f("fk_bank_transaction_import_batch_id_import_batch"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transaction")),
        sa.UniqueConstraint(
            "bank_account_id", "dedupe_key", name=op.f("uq_bank_transaction_bank_account_id_dedupe_key")
        ),
    )
    op.create_index(op.f("ix_bank_transaction_import_batch_id"), "bank_transaction", ["import_batch_id"])
    op.create_index("ix_bank_transaction_workbench", "bank_transaction", ["workspace_id", "status", "booking_date"])

    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("order_number", sa.String(), nullable=False),
        sa.Column("partner_name", sa.String(), nullable=False),
        sa.Column("partner_tax_id", sa.String(), nullable=False),
        sa.Column("partner_iban", sa.String(), nullable=False),
        sa.Column("partner_email", sa.String(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("gross", MONEY, nullable=False),
        sa.Column("currency", CURRENCY, nullable=False),
        sa.Column("paid_amount", MONEY, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("natural_key", sa.String(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_invoice_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("workspace_id", "natural_key", name=op.f("uq_invoice_workspace_id_natural_key")),
        sa.UniqueConstraint(
            "workspace_id", "source", "external_id", name=op.f("uq_invoice_workspace_id_source_external_id")
        ),
    )
    op.create_index("ix_invoice_workspace_number", "invoice", ["workspace_id", "number"])

    op.create_table(
        "allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", CURRENCY, nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("undone_at", UTC_DATETIME, nullable=True),
        sa.Column("undone_by", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_allocation_workspace_id_workspace")),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["bank_transaction.id"],
            name=op.f("fk_allocation_transaction_id_bank_transaction"),
        ),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name=op.f("fk_allocation_invoice_id_invoice")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation")),
    )
    op.create_index(op.f("ix_allocation_workspace_id"), "allocation", ["workspace_id"])
    op.create_index(op.f("ix_allocation_transaction_id"), "allocation", ["transaction_id"])
    op.create_index(op.f("ix_allocation_invoice_id"), "allocation", ["invoice_id"])

    op.create_table(
        "match_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("invoice_ids", JSON_DOCUMENT, nullable=False),
        sa.Column("amounts", JSON_DOCUMENT, nullable=False),
        sa.Column("confidence", MONEY, nullable=False),
        sa.Column("reasons", JSON_DOCUMENT, nullable=False),
        sa.Column("flags", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_match_suggestion_workspace_id_workspace")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["bank_transaction.id"],
            name=op.f("fk_match_suggestion_transaction_id_bank_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_suggestion")),
    )
    op.create_index(op.f("ix_match_suggestion_workspace_id"), "match_suggestion", ["workspace_id"])
    op.create_index(op.f("ix_match_suggestion_transaction_id"), "match_suggestion", ["transaction_id"])

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("entity_type", sa.String(), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("data", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_audit_event_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index("ix_audit_event_workspace_created", "audit_event", ["workspace_id", "created_at"])

    op.create_table(
        "outbox_event",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("payload", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("delivered_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_outbox_event_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
        sa.UniqueConstraint("workspace_id", "dedupe_key", name=op.f("uq_outbox_event_workspace_id_dedupe_key")),
    )

    op.create_table(
        "payer_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("partner_key", sa.String(), nullable=False),
        sa.Column("partner_name", sa.String(), nullable=False),
        sa.Column("source_allocation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_payer_alias_workspace_id_workspace")),
        sa.ForeignKeyConstraint(
            ["source_allocation_id"],
            ["allocation.id"],
            name=op.f("fk_payer_alias_source_allocation_id_allocation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payer_alias")),
        sa.UniqueConstraint(
            "workspace_id",
            "kind",
            "value",
            "partner_key",
            name=op.f("uq_payer_alias_workspace_id_kind_value_partner_key"),
        ),
    )
    op.create_index(op.f("ix_payer_alias_source_allocation_id"), "payer_alias", ["source_allocation_id"])


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes with it.
    for table in (
        "payer_alias",
        "outbox_event",
        "audit_event",
        "match_suggestion",
        "allocation",
        "invoice",
        "bank_transaction",
        "import_batch",
        "bank_account",
        "workspace",
    ):
        op.drop_table(table)
