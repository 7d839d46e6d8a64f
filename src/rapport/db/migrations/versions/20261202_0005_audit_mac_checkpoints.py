"""keyed audit chain, checkpoints, append-only guard

Revision ID: 20261202_0005
Revises: 20261130_0004
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

revision: str = "20261202_0005"
down_revision: str | None = "20261130_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
