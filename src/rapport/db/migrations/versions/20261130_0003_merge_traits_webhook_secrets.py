"""merge trait changes, stored webhook secrets

Revision ID: 20261130_0003
Revises: 20261123_0002
Create Date: 2026-11-30 10:00:00

- customer_merges.trait_changes: what a merge did to the winner's traits (sealed), so an undo
  restores them.
- sources.webhook_secret(+_set_at): the shop-webhook signing secret, stored sealed instead of
  derived from the newest master key (which changed on every key-ring rotation). Existing
  sources keep the secret they had: it is derived here, once, with the key ring in force at
  upgrade time, and stored.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261130_0003"
down_revision: str | None = "20261123_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_merges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trait_changes", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_secret", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "webhook_secret_set_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True
            )
        )
    _pin_derived_webhook_secrets()


def downgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("webhook_secret_set_at")
        batch_op.drop_column("webhook_secret")
    with op.batch_alter_table("customer_merges", schema=None) as batch_op:
        batch_op.drop_column("trait_changes")


def _pin_derived_webhook_secrets() -> None:
    """Store each existing source's derived secret, as the shops were configured with it."""
    connection = op.get_bind()
    source_ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM sources"))]
    if not source_ids:
        return  # a new install: no key ring is needed
    from rapport.core.crypto import keyring

    ring = keyring()
    for source_id in source_ids:
        secret = ring.sign(f"shopify-webhook:{source_id}")
        sealed = ring.encrypt(secret, f"sources.webhook_secret:{source_id}")
        connection.execute(
            sa.text("UPDATE sources SET webhook_secret = :sealed WHERE id = :id"),
            {"sealed": sealed, "id": source_id},
        )
