"""chat widget visitors and sessions

Revision ID: 20261202_0012
Revises: 20261202_0011
Create Date: 2026-12-02 07:00:00

- conversations.message_seq and conversation_messages.seq: each message's place in its
  thread (1, 2, 3, ...), so a chat client resumes after the last one it saw.
- widget_visitors: widget visitors (hashed token, source, blind index of a verified user id,
  sealed email for an offline reply).
- widget_threads: who owns a chat conversation and how far each side has read.
- widget_client_messages: the id the widget gave each message (unique per visitor), so a
  resend is found instead of written twice.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0012"
down_revision: str | None = "20261202_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant_columns(table: str) -> list[Any]:
    return [
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    for table, column in (("conversations", "message_seq"), ("conversation_messages", "seq")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "widget_visitors",
        sa.Column("source_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_index", sa.String(length=64), nullable=True),
        sa.Column("email", sa.LargeBinary(), nullable=True),
        sa.Column("last_seen_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        *_tenant_columns("widget_visitors"),
        _fk("widget_visitors", "source_id", "sources"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_widget_visitors_token_hash")),
    )
    with op.batch_alter_table("widget_visitors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_widget_visitors_source_id"), ["source_id"])
        batch_op.create_index(batch_op.f("ix_widget_visitors_workspace_id"), ["workspace_id"])
    op.create_table(
        "widget_threads",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("visitor_id", sa.String(length=32), nullable=False),
        sa.Column("user_index", sa.String(length=64), nullable=True),
        sa.Column("visitor_read_seq", sa.Integer(), nullable=False),
        sa.Column("agent_read_seq", sa.Integer(), nullable=False),
        *_tenant_columns("widget_threads"),
        _fk("widget_threads", "conversation_id", "conversations"),
        _fk("widget_threads", "visitor_id", "widget_visitors"),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_widget_threads_conversation_id")),
    )
    with op.batch_alter_table("widget_threads", schema=None) as batch_op:
        batch_op.create_index("ix_widget_threads_visitor", ["workspace_id", "visitor_id", "id"])
        batch_op.create_index("ix_widget_threads_user", ["workspace_id", "user_index", "id"])
        batch_op.create_index(batch_op.f("ix_widget_threads_workspace_id"), ["workspace_id"])
    op.create_table(
        "widget_client_messages",
        sa.Column("visitor_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        *_tenant_columns("widget_client_messages"),
        _fk("widget_client_messages", "visitor_id", "widget_visitors"),
        _fk("widget_client_messages", "conversation_id", "conversations"),
        _fk("widget_client_messages", "message_id", "conversation_messages"),
        sa.UniqueConstraint(
            "visitor_id", "client_id", name=op.f("uq_widget_client_messages_visitor_id_client_id")
        ),
    )
    with op.batch_alter_table("widget_client_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_widget_client_messages_workspace_id"), ["workspace_id"]
        )


def downgrade() -> None:
    for table in ("widget_client_messages", "widget_threads", "widget_visitors"):
        op.drop_table(table)
    for table, column in (("conversation_messages", "seq"), ("conversations", "message_seq")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
