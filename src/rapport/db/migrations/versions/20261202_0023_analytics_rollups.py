"""reserved for the analytics aggregates (issue 11)

Revision ID: 20261202_0023
Revises: 20261202_0022
Create Date: 2026-12-02 13:40:00
"""

from collections.abc import Sequence

revision: str = "20261202_0023"
down_revision: str | None = "20261202_0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
