"""analytics day digests

Revision ID: 20261205_0031
Revises: 20261204_0030
Create Date: 2026-12-05 09:00:00

analytics_day_digests: one closed local day of what a metric source reads, stored as columns
by a background job (`rapport.analytics.digests`). Triggers delete the digests that cover a
metric event as soon as one is inserted, changed or deleted, in the same transaction as the
write, so a digest never disagrees with its rows. On SQLite every write runs the trigger's
look-up (an index probe that finds nothing for a write stamped now). On PostgreSQL only a
write stamped more than three hours before the database's clock does: it first takes, shared,
the advisory lock the job holds while it checks and stores a digest, so a write and a store
of the same workspace's digests never interleave. Nothing is back-filled: the job digests
the past days after the upgrade.
"""

# The SQL below is assembled from this module's constants: nothing of it comes from input.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261205_0031"
down_revision: str | None = "20261204_0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "analytics_day_digests"
EVENTS = "conversation_metric_events"
SOURCE = "support"
# `digests.TRIGGER_AGE`, and `digests.lock_name(source)`.
AGE = "interval '3 hours'"
LOCK = f"hashtext('analytics_day_digests:{SOURCE}')"


def _forget(row: str) -> str:
    """Return the DELETE of the support digests covering the event `row` (NEW or OLD)."""
    return (
        f"DELETE FROM {TABLE} WHERE workspace_id = {row}.workspace_id "
        f"AND source = '{SOURCE}' AND ends_at > {row}.created_at "
        f"AND starts_at <= {row}.created_at;"
    )


SQLITE_TRIGGERS = {
    "tr_analytics_digests_event_insert": f"AFTER INSERT ON {EVENTS} BEGIN {_forget('NEW')} END",
    "tr_analytics_digests_event_delete": f"AFTER DELETE ON {EVENTS} BEGIN {_forget('OLD')} END",
    "tr_analytics_digests_event_update": (
        f"AFTER UPDATE ON {EVENTS} BEGIN {_forget('OLD')} {_forget('NEW')} END"
    ),
}


def _postgres_statements() -> list[str]:
    def forget(row: str) -> str:
        return f"""IF {row}.created_at < now() - {AGE} THEN
                PERFORM pg_advisory_xact_lock_shared({LOCK}, hashtext({row}.workspace_id));
                {_forget(row)}
            END IF;"""

    return [
        f"""CREATE FUNCTION analytics_digests_on_event() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                {forget("OLD")}
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                {forget("NEW")}
            END IF;
            RETURN NULL;
        END $$""",
        # A write stamped now never calls the function.
        f"""CREATE TRIGGER tr_analytics_digests_event_insert AFTER INSERT ON {EVENTS}
        FOR EACH ROW WHEN (NEW.created_at < now() - {AGE})
        EXECUTE FUNCTION analytics_digests_on_event()""",
        f"""CREATE TRIGGER tr_analytics_digests_event_change AFTER DELETE OR UPDATE ON {EVENTS}
        FOR EACH ROW EXECUTE FUNCTION analytics_digests_on_event()""",
    ]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("starts_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("built_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{TABLE}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "source", "starts_at", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(
        "ix_analytics_day_digests_end", TABLE, ["workspace_id", "source", "ends_at"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in _postgres_statements():
            op.execute(statement)
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER tr_analytics_digests_event_insert ON {EVENTS}")
        op.execute(f"DROP TRIGGER tr_analytics_digests_event_change ON {EVENTS}")
        op.execute("DROP FUNCTION analytics_digests_on_event()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_index("ix_analytics_day_digests_end", table_name=TABLE)
    op.drop_table(TABLE)
