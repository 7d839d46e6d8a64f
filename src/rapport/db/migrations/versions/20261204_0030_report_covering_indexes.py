"""metrics: the report indexes cover what the dashboard reads (a window's metric events and
orders come from the index alone, not a table row per event or order)

Revision ID: 20261204_0030
Revises: 20261203_0029
Create Date: 2026-12-04 13:30:00
"""

from collections.abc import Sequence

from alembic import op

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
        _rebuild(table, name, after)


def downgrade() -> None:
    for table, name, before, _after in INDEXES:
        _rebuild(table, name, before)


def _rebuild(table: str, name: str, columns: list[str]) -> None:
    """Give index `name` these columns. On PostgreSQL the new one is built first under
    another name: building blocks only writes, and the old one's drop, whose lock blocks
    reads too, comes last, a moment before the migration commits. SQLite cannot rename an
    index (and its one writer is held throughout anyway)."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
        return
    op.create_index(f"{name}_rebuilt", table, columns, unique=False)
    op.drop_index(name, table_name=table)
    op.execute(f"ALTER INDEX {name}_rebuilt RENAME TO {name}")
