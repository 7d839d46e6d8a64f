"""a shop's catalog keeps its own facts of a product sheet, and leaves the others

Revision ID: 20261207_0040
Revises: 20261207_0039
Create Date: 2026-12-07 11:40:00

- knowledge_product_sheets.synced_facts: the names of the facts the shop's catalog (Shopify)
  wrote last; its next update replaces those and keeps every fact written by hand. Sheets
  last written by the Shopify webhook start with all their facts' names.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0040"
down_revision: str | None = "20261207_0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("knowledge_product_sheets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("synced_facts", sa.JSON(), nullable=False, server_default="[]")
        )
    sheets = sa.table(
        "knowledge_product_sheets",
        sa.column("id", sa.String()),
        sa.column("author", sa.String()),
        sa.column("facts", sa.JSON()),
        sa.column("synced_facts", sa.JSON()),
    )
    connection = op.get_bind()
    synced = connection.execute(
        sa.select(sheets.c.id, sheets.c.facts).where(sheets.c.author == "shopify")
    ).all()
    for sheet_id, facts in synced:
        names = [pair[0] for pair in facts or []]
        connection.execute(
            sheets.update().where(sheets.c.id == sheet_id).values(synced_facts=names)
        )


def downgrade() -> None:
    with op.batch_alter_table("knowledge_product_sheets", schema=None) as batch_op:
        batch_op.drop_column("synced_facts")
