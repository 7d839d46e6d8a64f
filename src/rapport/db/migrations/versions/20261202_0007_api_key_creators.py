"""API keys follow their creator's membership

Revision ID: 20261202_0007
Revises: 20261202_0006
Create Date: 2026-12-02 06:00:00

- api_keys.staff_id (indexed): the staff member whose authority a key carries (its creator,
  or the staff member behind the key that created it; null for keys the system made). A key
  holds at most that member's current role's scopes and stops working when they leave.
  Filled here from created_by, following keys made by keys to the staff member at the root.
- Keys whose staff member had already left the workspace are revoked here (they stopped
  working with this release anyway; revoking them keeps them dead if the person comes back).
  The upgrade cannot append to the audit log's hash chain, so it records no audit events.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0007"
down_revision: str | None = "20261202_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_api_keys = sa.table(
    "api_keys",
    sa.column("id", sa.String()),
    sa.column("workspace_id", sa.String()),
    sa.column("created_by", sa.String()),
    sa.column("staff_id", sa.String()),
    sa.column("revoked_at", rapport.core.db.UtcDateTime(timezone=True)),
)
_staff_users = sa.table("staff_users", sa.column("id", sa.String()))
_memberships = sa.table(
    "memberships", sa.column("workspace_id", sa.String()), sa.column("staff_id", sa.String())
)


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_keys_staff_id"), ["staff_id"], unique=False)
    _fill_staff_ids()
    _revoke_keys_of_former_members()


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_staff_id"))
        batch_op.drop_column("staff_id")


def _fill_staff_ids() -> None:
    """Set each key's staff member: its creator if staff, else its creating key's member."""
    connection = op.get_bind()
    staff_ids = sa.select(_staff_users.c.id)
    connection.execute(
        sa.update(_api_keys)
        .where(_api_keys.c.created_by.in_(staff_ids))
        .values(staff_id=_api_keys.c.created_by)
    )
    parent = _api_keys.alias("parent")
    parent_staff = (
        sa.select(parent.c.staff_id).where(parent.c.id == _api_keys.c.created_by).scalar_subquery()
    )
    # One generation of keys made by keys per pass; chains are short.
    while True:
        filled = connection.execute(
            sa.update(_api_keys)
            .where(_api_keys.c.staff_id.is_(None), parent_staff.is_not(None))
            .values(staff_id=parent_staff)
        )
        if not filled.rowcount:
            break


def _revoke_keys_of_former_members() -> None:
    """Revoke live keys whose staff member no longer belongs to the key's workspace."""
    member = sa.exists().where(
        _memberships.c.workspace_id == _api_keys.c.workspace_id,
        _memberships.c.staff_id == _api_keys.c.staff_id,
    )
    op.get_bind().execute(
        sa.update(_api_keys)
        .where(_api_keys.c.staff_id.is_not(None), _api_keys.c.revoked_at.is_(None), ~member)
        .values(revoked_at=datetime.now(UTC))
    )
