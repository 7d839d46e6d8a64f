"""reserved for the assistant's generative mode (issue 10)

Revision ID: 20261202_0024
Revises: 20261202_0023
Create Date: 2026-12-02 13:40:00
"""

from collections.abc import Sequence

revision: str = "20261202_0024"
down_revision: str | None = "20261202_0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
