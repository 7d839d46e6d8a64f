"""routing, business hours and SLA policies

Revision ID: 20261202_0014
Revises: 20261202_0013
Create Date: 2026-12-02 07:00:00

- conversations: snoozed_until indexed (the wake-up job); language and skills routing needs, the SLA policy that applies, the
  running targets' deadlines and when the SLA check looks at it again (indexed).
- support_agents: capacity, skills, languages, availability, last assignment (round robin).
- support_routing_settings: automatic assignment on or off and its mode, per workspace.
- support_calendars: business hours (weekly, in the workspace's time zone) and holidays.
- sla_policies: first response, next response and resolution targets in business minutes
  for the priorities and channels they match.
- sla_events: append-only SLA warnings and breaches, once per deadline.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0014"
down_revision: str | None = "20261202_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=16)


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


def _workspace_index(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_workspace_id"), table, ["workspace_id"], unique=False)


CHANNEL = ("chat", "email", "sms", "api", "phone", "in_store")
PRIORITY = ("low", "normal", "high", "urgent")


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("skills", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("sla_policy_id", sa.String(length=32), nullable=True))
        for name in ("first_response_due_at", "next_response_due_at", "resolution_due_at"):
            batch_op.add_column(
                sa.Column(name, rapport.core.db.UtcDateTime(timezone=True), nullable=True)
            )
        batch_op.add_column(
            sa.Column("sla_check_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_conversations_sla_check_at"), ["sla_check_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversations_snoozed_until"), ["snoozed_until"], unique=False
        )
    with op.batch_alter_table("support_agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity", sa.Integer(), server_default="5", nullable=False))
        batch_op.add_column(sa.Column("skills", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("languages", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(
            sa.Column(
                "availability",
                _enum("agentavailability", "online", "away"),
                server_default="away",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("last_assigned_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True)
        )

    op.create_table(
        "support_routing_settings",
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("mode", _enum("routingmode", "round_robin", "least_loaded"), nullable=False),
        *_tenant_columns("support_routing_settings"),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_support_routing_settings_workspace_id")),
    )
    _workspace_index("support_routing_settings")

    op.create_table(
        "support_calendars",
        sa.Column("weekly", sa.JSON(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        *_tenant_columns("support_calendars"),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_support_calendars_workspace_id")),
    )
    _workspace_index("support_calendars")

    op.create_table(
        "sla_policies",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("priorities", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("next_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("warn_before_minutes", sa.Integer(), nullable=False),
        *_tenant_columns("sla_policies"),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_sla_policies_workspace_id_name")),
    )
    _workspace_index("sla_policies")

    op.create_table(
        "sla_events",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("policy_id", sa.String(length=32), nullable=False),
        sa.Column(
            "target",
            _enum("slatarget", "first_response", "next_response", "resolution"),
            nullable=False,
        ),
        sa.Column("kind", _enum("slaeventkind", "warning", "breach"), nullable=False),
        sa.Column("due_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("channel", _enum("channel", *CHANNEL), nullable=False),
        sa.Column("priority", _enum("priority", *PRIORITY), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        *_tenant_columns("sla_events"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_sla_events_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "conversation_id",
            "target",
            "kind",
            "due_at",
            name=op.f("uq_sla_events_conversation_id_target_kind_due_at"),
        ),
    )
    op.create_index("ix_sla_events_kind", "sla_events", ["workspace_id", "kind", "id"])
    _workspace_index("sla_events")


def downgrade() -> None:
    for table in ("sla_events", "sla_policies", "support_calendars", "support_routing_settings"):
        op.drop_table(table)
    with op.batch_alter_table("support_agents", schema=None) as batch_op:
        for name in ("last_assigned_at", "availability", "languages", "skills", "capacity"):
            batch_op.drop_column(name)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_snoozed_until"))
        batch_op.drop_index(batch_op.f("ix_conversations_sla_check_at"))
        for name in (
            "sla_check_at",
            "resolution_due_at",
            "next_response_due_at",
            "first_response_due_at",
            "sla_policy_id",
            "skills",
            "language",
        ):
            batch_op.drop_column(name)
