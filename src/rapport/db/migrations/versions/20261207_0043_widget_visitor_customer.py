"""a signed-in widget visitor's chats are their customer profile's

Revision ID: 20261207_0043
Revises: 20261207_0042
Create Date: 2026-12-07 18:30:00

- widget_visitors.customer_id: the profile holding the user id the shop's server signed, found
  when the widget starts; the conversations the visitor opens are linked to it (their orders,
  timeline and earlier chats beside them in the console). A deleted profile leaves it empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0043"
down_revision: str | None = "20261207_0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("widget_visitors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            "fk_widget_visitors_customer_id_customers",
            "customers",
            ["customer_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("widget_visitors", schema=None) as batch_op:
        batch_op.drop_constraint("fk_widget_visitors_customer_id_customers", type_="foreignkey")
        batch_op.drop_column("customer_id")
