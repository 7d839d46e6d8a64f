"""metrics: the volumes and the survey figures read their window from an index alone

Revision ID: 20261205_0032
Revises: 20261205_0031
Create Date: 2026-12-05 10:00:00

The dashboard counts the conversations created in a window by their channel, team and
assignee (volumes, per day and per breakdown) and the survey answers of a window by score
and by channel, team, agent and survey: until now each matching row was read from the table
(83,000 conversations and 40,000 answers a month at a busy shop's size).
"""

from collections.abc import Sequence

from rapport.db.index_rebuild import rebuild_index

revision: str = "20261205_0032"
down_revision: str | None = "20261205_0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, columns before, columns after)
INDEXES = (
    (
        "conversations",
        "ix_conversations_created",
        ["workspace_id", "created_at"],
        ["workspace_id", "created_at", "channel", "team_id", "assignee_id", "merged_into_id"],
    ),
    (
        "feedback_responses",
        "ix_feedback_responses_kind_answered",
        ["workspace_id", "kind", "answered_at"],
        ["workspace_id", "kind", "answered_at", "score", "channel", "team_id", "staff_id",
         "survey_id"],
    ),
)  # fmt: skip


def upgrade() -> None:
    for table, name, _before, after in INDEXES:
        rebuild_index(table, name, after)


def downgrade() -> None:
    for table, name, before, _after in INDEXES:
        rebuild_index(table, name, before)
