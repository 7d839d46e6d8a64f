"""metrics: the report indexes cover what the dashboard reads (a window's metric events and
orders come from the index alone, not a table row per event or order)

Revision ID: 20261204_0030
Revises: 20261203_0029
Create Date: 2026-12-04 13:30:00
"""

from collections.abc import Sequence

from rapport.db.index_rebuild import rebuild_index

revision: str = "20261204_0030"
down_revision: str | None = "20261203_0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, columns before, columns after)
INDEXES = (
    (
        "conversation_metric_events",
        "ix_conversation_metric_events_window",
        ["workspace_id", "kind", "created_at"],
        ["workspace_id", "kind", "created_at", "id", "seconds", "channel", "team_id",
         "staff_id", "conversation_id"],
    ),
    (
        "orders",
        "ix_orders_placed",
        ["workspace_id", "placed_at"],
        ["workspace_id", "placed_at", "customer_id", "status", "total", "refunded"],
    ),
    (
        "orders",
        "ix_orders_customer",
        ["workspace_id", "customer_id", "placed_at"],
        ["workspace_id", "customer_id", "placed_at", "status", "total", "refunded"],
    ),
)  # fmt: skip


def upgrade() -> None:
    for table, name, _before, after in INDEXES:
        rebuild_index(table, name, after)


def downgrade() -> None:
    for table, name, before, _after in INDEXES:
        rebuild_index(table, name, before)
