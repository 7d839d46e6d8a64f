"""product fact sheets

Revision ID: 20261207_0039
Revises: 20261206_0038
Create Date: 2026-12-07 08:10:00

- knowledge_product_sheets: one row per product and locale: its name, SKU, description, facts
  ([name, value] pairs), page address and its lines' vectors, which the assistant answers product questions from.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261207_0039"
down_revision: str | None = "20261206_0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "knowledge_product_sheets"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("product_key", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("updated_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(length=64), nullable=True),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{TABLE}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint(
            "workspace_id",
            "product_key",
            "locale",
            name=op.f(f"uq_{TABLE}_workspace_id_product_key_locale"),
        ),
    )
    op.create_index(op.f(f"ix_{TABLE}_workspace_id"), TABLE, ["workspace_id"])


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{TABLE}_workspace_id"), table_name=TABLE)
    op.drop_table(TABLE)
