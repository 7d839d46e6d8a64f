"""jobs: the nightly prune is `core.prune` (every retention rule, a chunk per job); the
schedule of `core.prune_jobs`, which it replaces, and its runs still queued go (no handler
takes them any more: each would fail its attempts and stay dead)

Revision ID: 20261203_0029
Revises: 20261203_0028
Create Date: 2026-12-03 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0029"
down_revision: str | None = "20261203_0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    old = {"name": "core.prune_jobs"}
    op.execute(sa.text("DELETE FROM job_schedules WHERE name = :name").bindparams(**old))
    op.execute(
        sa.text("DELETE FROM jobs WHERE name = :name AND status = 'queued'").bindparams(**old)
    )


def downgrade() -> None:
    # The old schedule comes back by itself when an older version's worker starts.
    pass
