"""support: index widget client messages by message (the widget's read-back looks client ids
up by message, and deleting a message cascades to them: both scanned the table)

Revision ID: 20261202_0027
Revises: 20261202_0026
Create Date: 2026-12-02 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261202_0027"
down_revision: str | None = "20261202_0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("widget_client_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_widget_client_messages_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("widget_client_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_widget_client_messages_message_id"))
