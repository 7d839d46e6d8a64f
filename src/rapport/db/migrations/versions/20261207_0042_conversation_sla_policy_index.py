"""SLA tracking is queued only where an SLA may apply

Revision ID: 20261207_0042
Revises: 20261207_0041
Create Date: 2026-12-07 12:30:00

- ix_conversations_sla_policy (workspace_id, sla_policy_id): tells at once whether any
  conversation of a workspace still shows an SLA policy's deadlines; with that and no policy,
  a conversation's change queues no `support.track_sla` job.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261207_0042"
down_revision: str | None = "20261207_0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_conversations_sla_policy", "conversations", ["workspace_id", "sla_policy_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_sla_policy", table_name="conversations")
