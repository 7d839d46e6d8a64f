"""the assistant's generative mode: one OpenAI-compatible endpoint per workspace

Revision ID: 20261202_0024
Revises: 20261202_0023
Create Date: 2026-12-02 13:40:00

- assistant_generative: per workspace, whether the generative mode is on, the endpoint's
  base URL, the model's name, its API key sealed to the row, and the request timeout.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0024"
down_revision: str | None = "20261202_0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assistant_generative",
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("api_key", sa.LargeBinary(), nullable=True),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("updated_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_assistant_generative_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_generative")),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_assistant_generative_workspace_id")),
    )
    op.create_index(
        op.f("ix_assistant_generative_workspace_id"),
        "assistant_generative",
        ["workspace_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assistant_generative_workspace_id"), table_name="assistant_generative")
    op.drop_table("assistant_generative")
