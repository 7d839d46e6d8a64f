"""canned responses, macros and saved views

Revision ID: 20261202_0021
Revises: 20261202_0020
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

revision: str = "20261202_0021"
down_revision: str | None = "20261202_0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
