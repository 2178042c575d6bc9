"""Workbench index: booked transactions by status in (date, id) order, covering the per-status counts;
the workspace's amount tolerance becomes a setting.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = ["workspace_id", "pending", "status", "booking_date", "id", "bank_account_id"]
OLD = ["workspace_id", "status", "booking_date"]


def upgrade() -> None:
    with op.batch_alter_table("bank_transaction", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_transaction_workbench")
        batch_op.create_index("ix_bank_transaction_workbench", NEW, unique=False)
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount_tolerance", sa.Numeric().with_variant(sa.Text(), "sqlite"),
                                      nullable=False, server_default="0.03"))  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("amount_tolerance")
    with op.batch_alter_table("bank_transaction", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_transaction_workbench")
        batch_op.create_index("ix_bank_transaction_workbench", OLD, unique=False)
