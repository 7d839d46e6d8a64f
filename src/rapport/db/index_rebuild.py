"""Give an existing index other columns inside a migration, with reads going on meanwhile."""

from __future__ import annotations

from alembic import op


def rebuild_index(table: str, name: str, columns: list[str]) -> None:
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
