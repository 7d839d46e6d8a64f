"""the workspace's own intents: a few example messages and an answer each

Revision ID: 20261206_0035
Revises: 20261205_0034
Create Date: 2026-12-06 09:40:00

- assistant_intents: per workspace, an intent's name (unique in the workspace), its example
  messages, the answer the assistant gives (and whether it then hands off), whether it is
  on, the similarity a message needs to take it, and the examples' vectors with the model that made them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261206_0035"
down_revision: str | None = "20261205_0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assistant_intents",
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("hand_off", sa.Boolean(), nullable=False),
        sa.Column("min_similarity", sa.Float(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(length=200), nullable=True),
        sa.Column("updated_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_assistant_intents_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_intents")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_assistant_intents_workspace_id_name")
        ),
    )
    op.create_index(
        op.f("ix_assistant_intents_workspace_id"),
        "assistant_intents",
        ["workspace_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assistant_intents_workspace_id"), table_name="assistant_intents")
    op.drop_table("assistant_intents")
