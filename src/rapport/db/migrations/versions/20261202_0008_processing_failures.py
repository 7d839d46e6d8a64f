"""processing failures kept for reprocessing

Revision ID: 20261202_0008
Revises: 20261202_0007
Create Date: 2026-12-02 06:00:00

- event_processing_failures: one row per stored call whose processing failed (the error's
  class, where it was raised, how many attempts failed, when the last one did). The call
  stays unprocessed; `rapport events reprocess` runs it again and drops the row on success.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0008"
down_revision: str | None = "20261202_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_processing_failures",
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=32), nullable=True),
        sa.Column("error", sa.String(length=100), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_processing_failures_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_event_processing_failures_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_processing_failures")),
        sa.UniqueConstraint(
            "workspace_id",
            "event_id",
            name=op.f("uq_event_processing_failures_workspace_id_event_id"),
        ),
    )
    with op.batch_alter_table("event_processing_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_processing_failures_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_processing_failures_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("event_processing_failures")
