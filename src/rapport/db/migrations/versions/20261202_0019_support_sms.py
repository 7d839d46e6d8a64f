"""SMS channel

Revision ID: 20261202_0019
Revises: 20261202_0018
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

revision: str = "20261202_0019"
down_revision: str | None = "20261202_0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
