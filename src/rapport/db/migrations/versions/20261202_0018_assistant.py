"""assistant settings, dialogue state and message labels

Revision ID: 20261202_0018
Revises: 20261202_0017
Create Date: 2026-12-02 09:00:00

- conversation_messages: language, intent (+ confidence), sentiment (+ score), labelled_at.
- conversations: the latest customer message's labels (detected language, intent, sentiment).
- orders: fulfillment status, shipped time, sealed shipping address, return requested time.
- assistant_settings: per workspace and channel, whether the assistant owns new
  conversations, its name and its hand-off rules.
- assistant_dialogues: per conversation, the assistant's sealed dialogue state (slots, the
  action waiting for the customer's confirmation) and whether it handed off.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0018"
down_revision: str | None = "20261202_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE_LABELS = ("language", "intent", "intent_confidence", "sentiment", "sentiment_score")
CONVERSATION_LABELS = (
    "detected_language",
    "intent",
    "intent_confidence",
    "sentiment",
    "sentiment_score",
)
ORDER_FIELDS = ("fulfillment_status", "shipped_at", "shipping_address", "return_requested_at")


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


def _labels(language: str) -> list[sa.Column[Any]]:
    return [
        sa.Column(language, sa.String(length=16), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("intent_confidence", sa.Float(), nullable=True),
        sa.Column("sentiment", sa.String(length=16), nullable=True),
        sa.Column("sentiment_score", sa.Float(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("conversation_messages", schema=None) as batch_op:
        for column in _labels("language"):
            batch_op.add_column(column)
        batch_op.add_column(
            sa.Column("labelled_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        for column in _labels("detected_language"):
            batch_op.add_column(column)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "fulfillment_status",
                sa.String(length=16),
                server_default="unfulfilled",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("shipped_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("shipping_address", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "return_requested_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True
            )
        )

    op.create_table(
        "assistant_settings",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("confidence_threshold", sa.Float(), nullable=False),
        sa.Column("negative_sentiment_threshold", sa.Float(), nullable=False),
        sa.Column("knowledge_threshold", sa.Float(), nullable=False),
        sa.Column("vip_trait", sa.String(length=64), nullable=True),
        sa.Column("updated_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        *_tenant_columns("assistant_settings"),
        sa.UniqueConstraint(
            "workspace_id", "channel", name=op.f("uq_assistant_settings_workspace_id_channel")
        ),
    )
    op.create_index(
        op.f("ix_assistant_settings_workspace_id"),
        "assistant_settings",
        ["workspace_id"],
        unique=False,
    )

    op.create_table(
        "assistant_dialogues",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("updated_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        *_tenant_columns("assistant_dialogues"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_assistant_dialogues_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "workspace_id",
            "conversation_id",
            name=op.f("uq_assistant_dialogues_workspace_id_conversation_id"),
        ),
    )
    op.create_index(
        op.f("ix_assistant_dialogues_workspace_id"),
        "assistant_dialogues",
        ["workspace_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("assistant_dialogues")
    op.drop_table("assistant_settings")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        for name in reversed(ORDER_FIELDS):
            batch_op.drop_column(name)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        for name in reversed(CONVERSATION_LABELS):
            batch_op.drop_column(name)
    with op.batch_alter_table("conversation_messages", schema=None) as batch_op:
        for name in ("labelled_at", *reversed(MESSAGE_LABELS)):
            batch_op.drop_column(name)
