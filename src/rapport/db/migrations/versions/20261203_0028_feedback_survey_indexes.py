"""feedback: index invitations and responses by survey (deleting a survey cascades to its
invitations and clears its responses' survey: both scanned the tables)

Revision ID: 20261203_0028
Revises: 20261202_0027
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261203_0028"
down_revision: str | None = "20261202_0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("feedback_invitations", "feedback_responses"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_survey_id"), ["survey_id"], unique=False)


def downgrade() -> None:
    for table in ("feedback_invitations", "feedback_responses"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_survey_id"))
