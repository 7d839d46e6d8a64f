"""events: the lookup key of a call told by one anonymous id alone

Revision ID: 20261205_0033
Revises: 20261205_0032
Create Date: 2026-12-05 12:00:00

Ingestion stores, for a page, screen or track call whose whole identity is one anonymous id
(no traits or consent), that id's lookup key in the identity graph; processing then resolves
a returning visitor's call without reading who it is about, and decrypts it only for an order
or a product. Calls stored before have none and are read whole as before: nothing is
back-filled.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261205_0033"
down_revision: str | None = "20261205_0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN on both databases: the table is never copied.
    op.add_column("events", sa.Column("lookup_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("lookup_key")
