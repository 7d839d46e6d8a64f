"""workspace time zone

Revision ID: 20261202_0009
Revises: 20261202_0008
Create Date: 2026-12-02 06:30:00

- workspaces.time_zone: the IANA time zone (e.g. Europe/Berlin) every time in the console is
  shown in. Existing workspaces get UTC, which is what the console showed until now.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0009"
down_revision: str | None = "20261202_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
