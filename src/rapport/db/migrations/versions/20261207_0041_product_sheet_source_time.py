"""a product sheet remembers when the store last changed the product it holds

Revision ID: 20261207_0041
Revises: 20261207_0040
Create Date: 2026-12-07 12:20:00

- knowledge_product_sheets.source_updated_at: the product's `updated_at` in the shop's catalog
  (Shopify) as of the version the sheet holds; a webhook delivery of an older version (late,
  or retried after a newer one) changes nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261207_0041"
down_revision: str | None = "20261207_0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("knowledge_product_sheets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source_updated_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("knowledge_product_sheets", schema=None) as batch_op:
        batch_op.drop_column("source_updated_at")
