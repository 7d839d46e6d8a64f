"""support desk

Revision ID: 20261202_0011
Revises: 20261202_0010
Create Date: 2026-12-02 08:00:00

- conversations: channel, status (snoozed until), priority with its reason, customer,
  assignee, team, tags, custom attributes, the survivor of a merge, and the times metric
  events are measured from; indexes for the inbox by status, assignee and team.
- conversation_messages: messages and private notes, bodies sealed (AES-GCM, bound to the row).
- conversation_activities: each conversation's history of changes.
- support_teams, support_team_members, support_agents (limited to their teams' conversations).
- conversation_metric_events: append-only support facts (first response, reply, resolution,
  reopen, hand-off).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0011"
down_revision: str | None = "20261202_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_agents",
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("limited_to_teams", sa.Boolean(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_support_agents_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_support_agents_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_agents")),
        sa.UniqueConstraint(
            "workspace_id", "staff_id", name=op.f("uq_support_agents_workspace_id_staff_id")
        ),
    )
    with op.batch_alter_table("support_agents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_agents_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "support_teams",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_support_teams_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_teams")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_support_teams_workspace_id_name")
        ),
    )
    with op.batch_alter_table("support_teams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_teams_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "conversations",
        sa.Column(
            "channel",
            sa.Enum(
                "chat",
                "email",
                "sms",
                "api",
                "phone",
                "in_store",
                name="channel",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "pending",
                "snoozed",
                "resolved",
                "closed",
                name="conversationstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("snoozed_until", rapport.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "priority",
            sa.Enum(
                "low", "normal", "high", "urgent", name="priority", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("priority_reason", sa.String(length=300), nullable=False),
        sa.Column("priority_overridden", sa.Boolean(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("merged_into_id", sa.String(length=32), nullable=True),
        sa.Column("cycle_started_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("handed_off_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "awaiting_reply_since", rapport.core.db.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("first_response_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_message_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["staff_users.id"],
            name=op.f("fk_conversations_assignee_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_conversations_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["support_teams.id"],
            name=op.f("fk_conversations_team_id_support_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_conversations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversations_assignee", ["workspace_id", "assignee_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversations_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_inbox", ["workspace_id", "status", "id"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_team", ["workspace_id", "team_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversations_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "support_team_members",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_support_team_members_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["support_teams.id"],
            name=op.f("fk_support_team_members_team_id_support_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_support_team_members_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_team_members")),
        sa.UniqueConstraint(
            "team_id", "staff_id", name=op.f("uq_support_team_members_team_id_staff_id")
        ),
    )
    with op.batch_alter_table("support_team_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_team_members_staff_id"), ["staff_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_support_team_members_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "conversation_activities",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_activities_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_conversation_activities_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_activities")),
    )
    with op.batch_alter_table("conversation_activities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_activities_thread",
            ["workspace_id", "conversation_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_conversation_activities_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "conversation_messages",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column(
            "author_type",
            sa.Enum(
                "customer",
                "agent",
                "assistant",
                "system",
                name="authortype",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("mentions", sa.JSON(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_conversation_messages_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_messages")),
    )
    with op.batch_alter_table("conversation_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_messages_thread",
            ["workspace_id", "conversation_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_conversation_messages_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "conversation_metric_events",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "first_response",
                "reply",
                "resolution",
                "reopen",
                "handoff",
                name="metrickind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "chat",
                "email",
                "sms",
                "api",
                "phone",
                "in_store",
                name="channel",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_metric_events_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_conversation_metric_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_metric_events")),
    )
    with op.batch_alter_table("conversation_metric_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_metric_events_conversation_id"),
            ["conversation_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_conversation_metric_events_kind", ["workspace_id", "kind", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversation_metric_events_workspace_id"), ["workspace_id"], unique=False
        )


TABLES = (
    "conversation_metric_events",
    "conversation_messages",
    "conversation_activities",
    "support_team_members",
    "conversations",
    "support_teams",
    "support_agents",
)


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
