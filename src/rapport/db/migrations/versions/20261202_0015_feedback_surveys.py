"""surveys and survey responses

Revision ID: 20261202_0015
Revises: 20261202_0014
Create Date: 2026-12-02 09:00:00

- feedback_surveys: a survey's kind, questions, trigger, channels, marketing flag, active.
- feedback_invitations: one survey sent to one customer (a single-use link: its id signed).
- feedback_responses: answers and imported past answers; (workspace, kind, answered_at)
  indexed for the metrics, a dedupe key unique per workspace.
- feedback_settings: per-workspace throttle (days between surveys to one customer).
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0015"
down_revision: str | None = "20261202_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = ("nps", "csat", "ces", "rating", "custom")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=16)


def _time(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, rapport.core.db.UtcDateTime(timezone=True), nullable=nullable)


def _tenant_columns(table: str) -> list[Any]:
    return [
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _foreign(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _workspace_index(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_workspace_id"), table, ["workspace_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "feedback_surveys",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", _enum("surveykind", *KIND), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("marketing", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _time("updated_at"),
        *_tenant_columns("feedback_surveys"),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_feedback_surveys_workspace_id_name")
        ),
    )
    _workspace_index("feedback_surveys")

    op.create_table(
        "feedback_invitations",
        sa.Column("survey_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        _time("expires_at"),
        _time("reminded_at", nullable=True),
        _time("answered_at", nullable=True),
        *_tenant_columns("feedback_invitations"),
        _foreign("feedback_invitations", "survey_id", "feedback_surveys", "CASCADE"),
        _foreign("feedback_invitations", "customer_id", "customers", "CASCADE"),
    )
    op.create_index(
        "ix_feedback_invitations_customer",
        "feedback_invitations",
        ["workspace_id", "customer_id", "created_at"],
    )
    _workspace_index("feedback_invitations")

    op.create_table(
        "feedback_responses",
        sa.Column("survey_id", sa.String(length=32), nullable=True),
        sa.Column("invitation_id", sa.String(length=32), nullable=True),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("kind", _enum("surveykind", *KIND), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.LargeBinary(), nullable=True),
        sa.Column("answers", sa.LargeBinary(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("staff_id", sa.String(length=32), nullable=True),
        _time("answered_at"),
        sa.Column("origin", _enum("responseorigin", "survey", "import"), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("sentiment_label", sa.String(length=16), nullable=True),
        sa.Column("sentiment_score", sa.Float(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        *_tenant_columns("feedback_responses"),
        _foreign("feedback_responses", "survey_id", "feedback_surveys", "SET NULL"),
        _foreign("feedback_responses", "customer_id", "customers", "SET NULL"),
        sa.UniqueConstraint(
            "workspace_id", "dedupe_key", name=op.f("uq_feedback_responses_workspace_id_dedupe_key")
        ),
    )
    for name, columns in (
        ("kind_answered", ["workspace_id", "kind", "answered_at"]),
        ("customer", ["workspace_id", "customer_id", "answered_at"]),
        ("conversation", ["workspace_id", "conversation_id"]),
    ):
        op.create_index(f"ix_feedback_responses_{name}", "feedback_responses", columns)
    _workspace_index("feedback_responses")

    op.create_table(
        "feedback_settings",
        sa.Column("throttle_days", sa.Integer(), server_default="30", nullable=False),
        *_tenant_columns("feedback_settings"),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_feedback_settings_workspace_id")),
    )
    _workspace_index("feedback_settings")


def downgrade() -> None:
    for table in (
        "feedback_settings",
        "feedback_responses",
        "feedback_invitations",
        "feedback_surveys",
    ):
        op.drop_table(table)
