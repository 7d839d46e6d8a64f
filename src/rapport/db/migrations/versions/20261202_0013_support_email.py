"""email channel threading

Revision ID: 20261202_0013
Revises: 20261202_0012
Create Date: 2026-12-02 07:00:00

- outbound_emails: emails waiting for (or past) delivery, envelope and content sealed to the
  row, attempts, last error (never an address), when sent.
- support_email_settings: per workspace, the hash of the inbound address's secret and the
  signature under agents' email replies.
- conversation_emails: the email side of conversation messages: Message-ID (unique per
  workspace), References, the counterpart's address and subject sealed, attachment metadata.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0013"
down_revision: str | None = "20261202_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbound_emails",
        sa.Column("purpose", sa.String(length=50), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "sent", "dead", name="deliverystatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("sent_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_outbound_emails_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_emails")),
    )
    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbound_emails_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "support_email_settings",
        sa.Column("inbound_token_hash", sa.String(length=64), nullable=True),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("updated_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_support_email_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_email_settings")),
        sa.UniqueConstraint(
            "inbound_token_hash", name=op.f("uq_support_email_settings_inbound_token_hash")
        ),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_support_email_settings_workspace_id")),
    )
    with op.batch_alter_table("support_email_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_email_settings_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "conversation_emails",
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("inbound", "outbound", name="emaildirection", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("header_message_id", sa.String(length=255), nullable=True),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["conversation_messages.id"],
            name=op.f("fk_conversation_emails_message_id_conversation_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_conversation_emails_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_emails")),
        sa.UniqueConstraint(
            "workspace_id",
            "header_message_id",
            name=op.f("uq_conversation_emails_workspace_id_header_message_id"),
        ),
    )
    with op.batch_alter_table("conversation_emails", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_emails_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversation_emails_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("conversation_emails")
    op.drop_table("support_email_settings")
    op.drop_table("outbound_emails")
