"""how many messages took each custom intent, by day

Revision ID: 20261206_0037
Revises: 20261206_0036
Create Date: 2026-12-06 13:30:00

- assistant_intent_days: per workspace, custom intent and day (UTC), the number of customer
  messages that took the intent; counted by the assistant's turn, shown on the console.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261206_0037"
down_revision: str | None = "20261206_0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assistant_intent_days",
        sa.Column("intent_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["intent_id"],
            ["assistant_intents.id"],
            name=op.f("fk_assistant_intent_days_intent_id_assistant_intents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_assistant_intent_days_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_intent_days")),
        sa.UniqueConstraint(
            "workspace_id",
            "intent_id",
            "day",
            name=op.f("uq_assistant_intent_days_workspace_id_intent_id_day"),
        ),
    )
    op.create_index(
        op.f("ix_assistant_intent_days_workspace_id"),
        "assistant_intent_days",
        ["workspace_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assistant_intent_days_workspace_id"), table_name="assistant_intent_days")
    op.drop_table("assistant_intent_days")
