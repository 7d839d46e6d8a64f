"""the workspace's own intents may start an order task

Revision ID: 20261206_0036
Revises: 20261206_0035
Create Date: 2026-12-06 13:00:00

- assistant_intents.task: a task the intent starts (order status, cancel, address change,
  return, invoice), as the shipped intents start theirs; null for an answer alone.
- assistant_intents.answer may be null: an intent that starts a task needs no words of its own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_0036"
down_revision: str | None = "20261206_0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assistant_intents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task", sa.String(length=32), nullable=True))
        batch_op.alter_column("answer", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # Without its task such an intent would say nothing: kept, switched off.
    op.execute("UPDATE assistant_intents SET answer = '', enabled = false WHERE answer IS NULL")
    with op.batch_alter_table("assistant_intents", schema=None) as batch_op:
        batch_op.alter_column("answer", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("task")
