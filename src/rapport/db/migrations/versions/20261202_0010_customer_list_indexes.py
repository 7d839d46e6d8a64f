"""customer list indexes

Revision ID: 20261202_0010
Revises: 20261202_0009
Create Date: 2026-12-02 07:00:00

- One index per sort of the console's customers list (last seen, orders, revenue), each led by
  the workspace and the "not merged" filter and ending in the id the keyset pages by, so a page
  is read straight from the index instead of sorting the whole workspace.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261202_0010"
down_revision: str | None = "20261202_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORTS = {"seen": "last_seen_at", "orders": "orders_count", "revenue": "revenue"}


def upgrade() -> None:
    for name, column in SORTS.items():
        op.create_index(
            f"ix_customers_list_{name}",
            "customers",
            ["workspace_id", "merged_into_id", column, "id"],
        )


def downgrade() -> None:
    for name in SORTS:
        op.drop_index(f"ix_customers_list_{name}", table_name="customers")
