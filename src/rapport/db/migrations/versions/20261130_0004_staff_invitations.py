"""staff invitations

Revision ID: 20261130_0004
Revises: 20261130_0003
Create Date: 2026-11-30 12:00:00

- staff_invitations: pending invitations to join a workspace. The email is sealed with the key
  ring and found by its blind index; the link's single-use token is stored as a SHA-256 hash.
  Inviting someone no longer adds an existing account to the workspace: its owner accepts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261130_0004"
down_revision: str | None = "20261130_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_invitations",
        sa.Column("email_index", sa.String(length=64), nullable=False),
        sa.Column("email", sa.LargeBinary(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "owner", "admin", "supervisor", "agent", name="role", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "invited_by_type",
            sa.Enum(
                "staff",
                "api_key",
                "system",
                "anonymous",
                name="actortype",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("invited_by_id", sa.String(length=64), nullable=True),
        sa.Column("expires_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.String(length=32), nullable=True),
        sa.Column("declined_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_staff_invitations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_invitations_token_hash")),
    )
    with op.batch_alter_table("staff_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_invitations_email_index"), ["email_index"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_staff_invitations_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_invitations_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_staff_invitations_email_index"))
    op.drop_table("staff_invitations")
