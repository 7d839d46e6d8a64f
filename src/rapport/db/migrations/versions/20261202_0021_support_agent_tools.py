"""canned responses, macros and saved views

Revision ID: 20261202_0021
Revises: 20261202_0020
Create Date: 2026-12-02 09:00:00

- support_canned_responses: replies inserted by shortcut, with {{variables}}.
- support_macros: named sequences of conversation actions.
- support_saved_views: inbox filters kept under a name.
Each is shared (owner_id null) or personal to one staff member.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0021"
down_revision: str | None = "20261202_0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("support_canned_responses", "support_macros", "support_saved_views")


def _tenant_columns(table: str) -> list[Any]:
    return [
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["staff_users.id"],
            name=op.f(f"fk_{table}_owner_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "support_canned_responses",
        sa.Column("shortcut", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        *_tenant_columns("support_canned_responses"),
    )
    op.create_index(
        "ix_support_canned_responses_shortcut",
        "support_canned_responses",
        ["workspace_id", "shortcut"],
    )
    op.create_table(
        "support_macros",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        *_tenant_columns("support_macros"),
    )
    op.create_index("ix_support_macros_name", "support_macros", ["workspace_id", "name"])
    op.create_table(
        "support_saved_views",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        *_tenant_columns("support_saved_views"),
    )
    op.create_index("ix_support_saved_views_name", "support_saved_views", ["workspace_id", "name"])
    for table in TABLES:
        op.create_index(op.f(f"ix_{table}_workspace_id"), table, ["workspace_id"], unique=False)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
