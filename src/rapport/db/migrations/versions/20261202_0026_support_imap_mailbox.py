"""support: the email channel's IMAP mailbox (polled for inbound email)

Revision ID: 20261202_0026
Revises: 20261202_0024
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0026"
down_revision: str | None = "20261202_0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("support_email_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("imap_enabled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("imap_host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("imap_port", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("imap_security", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("imap_username", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("imap_password", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("imap_folder", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("imap_poll_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "imap_next_poll_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("imap_polled_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("imap_error", sa.String(length=300), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_support_email_settings_imap_next_poll_at"),
            ["imap_next_poll_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("support_email_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_email_settings_imap_next_poll_at"))
        for column in (
            "imap_error",
            "imap_polled_at",
            "imap_next_poll_at",
            "imap_poll_seconds",
            "imap_folder",
            "imap_password",
            "imap_username",
            "imap_security",
            "imap_port",
            "imap_host",
            "imap_enabled",
        ):
            batch_op.drop_column(column)
