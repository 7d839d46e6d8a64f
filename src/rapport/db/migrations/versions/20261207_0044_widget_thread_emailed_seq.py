"""replies a widget visitor has not seen are emailed to the address they left

Revision ID: 20261207_0044
Revises: 20261207_0043
Create Date: 2026-12-07 22:00:00

- widget_threads.email: where to email the replies of this conversation its customer has not
  seen (sealed to the row), left in the widget when no one was online. It is the
  conversation's, not the browser's: another person signing in on the same browser, or a
  stranger after a sign-out, never gets it.
- widget_threads.emailed_seq: the place of the last reply emailed (0: none), so a reply is
  emailed once, and several unseen ones in one email.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0044"
down_revision: str | None = "20261207_0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("widget_threads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("emailed_seq", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("widget_threads", schema=None) as batch_op:
        batch_op.drop_column("emailed_seq")
        batch_op.drop_column("email")
