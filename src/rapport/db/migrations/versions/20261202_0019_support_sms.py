"""SMS channel

Revision ID: 20261202_0019
Revises: 20261202_0018
Create Date: 2026-12-02 09:00:00

- support_sms_settings: a workspace's Twilio account (auth token sealed), the number or
  messaging service replies go out from; its id names the workspace's Twilio webhooks.
- conversation_sms: the SMS side of conversation messages: Twilio's MessageSid (unique per
  workspace: retried webhooks add nothing), the customer's number (blind index, sealed),
  media links (sealed), an outbound text's status, attempts and last error.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0019"
down_revision: str | None = "20261202_0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SMS_STATUS = (
    "received", "queued", "accepted", "sending", "sent", "delivered", "undelivered", "failed",
)  # fmt: skip


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


def upgrade() -> None:
    op.create_table(
        "support_sms_settings",
        sa.Column("account_sid", sa.String(length=64), nullable=False),
        sa.Column("auth_token", sa.LargeBinary(), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=True),
        sa.Column("messaging_service_sid", sa.String(length=64), nullable=True),
        sa.Column("updated_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        *_tenant_columns("support_sms_settings"),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_support_sms_settings_workspace_id")),
    )
    op.create_index(
        op.f("ix_support_sms_settings_workspace_id"),
        "support_sms_settings",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "conversation_sms",
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("inbound", "outbound", name="smsdirection", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("message_sid", sa.String(length=64), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*SMS_STATUS, name="smsstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("updated_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        *_tenant_columns("conversation_sms"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["conversation_messages.id"],
            name=op.f("fk_conversation_sms_message_id_conversation_messages"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "workspace_id", "message_sid", name=op.f("uq_conversation_sms_workspace_id_message_sid")
        ),
    )
    op.create_index(
        op.f("ix_conversation_sms_message_id"), "conversation_sms", ["message_id"], unique=False
    )
    op.create_index(
        op.f("ix_conversation_sms_workspace_id"), "conversation_sms", ["workspace_id"], unique=False
    )
    op.create_index(
        "ix_conversation_sms_phone",
        "conversation_sms",
        ["workspace_id", "phone_index", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("conversation_sms")
    op.drop_table("support_sms_settings")
