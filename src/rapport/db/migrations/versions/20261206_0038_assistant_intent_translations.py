"""the workspace's own intents answer in the customer's language

Revision ID: 20261206_0038
Revises: 20261206_0037
Create Date: 2026-12-06 13:40:00

- assistant_intents.translations: the answer in other languages, by language code; a message
  detected in one of them gets that answer, every other the intent's `answer`.
- assistant_intents.example_languages: each example's language when the detector is sure of
  it (examples in another language than most are matched as a group of their own).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_0038"
down_revision: str | None = "20261206_0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assistant_intents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("translations", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("example_languages", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assistant_intents", schema=None) as batch_op:
        batch_op.drop_column("example_languages")
        batch_op.drop_column("translations")
