"""analytics day digests

Revision ID: 20261205_0031
Revises: 20261204_0030
Create Date: 2026-12-05 09:00:00

analytics_day_digests: one closed local day of what a metric source reads (support metric
events, counted orders), stored as columns by a background job (`rapport.analytics.digests`).
Triggers delete the digests that cover a metric event or an order as soon as one is
inserted, changed or deleted, in the same transaction as the write, so a digest never
disagrees with its rows. On SQLite every write runs the trigger's look-up (a range of the
primary key: the digests of the two days before the row's time). On PostgreSQL only a write stamped more than
three hours before the database's clock does (an order is placed in its day by `placed_at`:
an import of old orders or a refund of an old one does): it first takes, shared, the
advisory lock the job holds while it checks and stores a digest, so a write and a store of
the same workspace's digests never interleave; a TRUNCATE deletes every digest of the table's
source. Nothing is back-filled: the job digests the
past days after the upgrade.
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
# Each source of digests: (its name, the table its rows come from, the column that places a
# row in a day, the columns an update must change to matter).
SOURCES = (
    ("support", "conversation_metric_events", "created_at", None),
    ("orders", "orders", "placed_at", ("workspace_id", "customer_id", "placed_at")),
)
# Half of `digests.MARGIN`; the lock keys below are `digests.lock_name(source)` hashed.
AGE = "interval '3 hours'"


def _counted(row: str) -> str:
    """Return whether the order `row` counts (`events.reports.counted_order`)."""
    return (
        f"({row}.status <> 'cancelled' AND NOT ({row}.refunded >= {row}.total "
        f"AND ({row}.refunded > 0 OR {row}.status = 'refunded')))"
    )


def _changed(columns: tuple[str, ...] | None, distinct: str) -> str | None:
    """Return the condition of an update that changes what a digest holds: one of these
    columns, or (for orders) whether the order counts. A shipped order or a partial refund
    leaves its day's digest alone."""
    if columns is None:
        return None
    moved = " OR ".join(f"OLD.{name} {distinct} NEW.{name}" for name in columns)
    return f"{moved} OR {_counted('OLD')} <> {_counted('NEW')}"


def _forget(source: str, moment: str, row: str, *, postgres: bool) -> str:
    """Return the DELETE of the source's digests covering the row `row` (NEW or OLD): a
    range of the primary key (a day starts less than two days before any instant in it),
    a few entries whatever the row's age."""
    at = f"{row}.{moment}"
    if postgres:
        earliest = f"{at} - interval '2 days'"
    else:
        earliest = f"strftime('%Y-%m-%d %H:%M:%f', {at}, '-2 days')"
    return (
        f"DELETE FROM {TABLE} WHERE workspace_id = {row}.workspace_id "
        f"AND source = '{source}' AND starts_at <= {at} AND starts_at > {earliest} "
        f"AND ends_at > {at};"
    )


def _sqlite_triggers() -> dict[str, str]:
    triggers = {}
    for source, table, moment, columns in SOURCES:
        new = _forget(source, moment, "NEW", postgres=False)
        old = _forget(source, moment, "OLD", postgres=False)
        changed = _changed(columns, "IS NOT")
        when = f" WHEN {changed}" if changed else ""
        triggers[f"tr_digests_{source}_insert"] = f"AFTER INSERT ON {table} BEGIN {new} END"
        triggers[f"tr_digests_{source}_delete"] = f"AFTER DELETE ON {table} BEGIN {old} END"
        triggers[f"tr_digests_{source}_update"] = (
            f"AFTER UPDATE ON {table}{when} BEGIN {old} {new} END"
        )
    return triggers


def _postgres_statements() -> list[str]:
    statements = []
    for source, table, moment, columns in SOURCES:

        def forget(row: str, source: str = source, moment: str = moment) -> str:
            lock = f"hashtext('analytics_day_digests:{source}'), hashtext({row}.workspace_id)"
            return f"""IF {row}.{moment} < now() - {AGE} THEN
                    PERFORM pg_advisory_xact_lock_shared({lock});
                    {_forget(source, moment, row, postgres=True)}
                END IF;"""

        changed = _changed(columns, "IS DISTINCT FROM")
        when = f"WHEN ({changed})" if changed else ""
        function = f"analytics_digests_on_{source}()"
        statements += [
            f"""CREATE FUNCTION {function} RETURNS trigger
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
            # A row stamped now never calls the function when it is inserted.
            f"""CREATE TRIGGER tr_digests_{source}_insert AFTER INSERT ON {table}
            FOR EACH ROW WHEN (NEW.{moment} < now() - {AGE}) EXECUTE FUNCTION {function}""",
            f"""CREATE TRIGGER tr_digests_{source}_delete AFTER DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}""",
            f"""CREATE TRIGGER tr_digests_{source}_update AFTER UPDATE ON {table}
            FOR EACH ROW {when} EXECUTE FUNCTION {function}""",
            # TRUNCATE runs no row trigger: every digest of the source goes.
            f"""CREATE FUNCTION analytics_digests_truncated_{source}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM {TABLE} WHERE source = '{source}';
                RETURN NULL;
            END $$""",
            f"""CREATE TRIGGER tr_digests_{source}_truncate AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION analytics_digests_truncated_{source}()""",
        ]
    return statements


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
    if op.get_bind().dialect.name == "postgresql":
        for statement in _postgres_statements():
            op.execute(statement)
    else:
        for name, body in _sqlite_triggers().items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for source, table, _moment, _columns in SOURCES:
            for event in ("insert", "delete", "update", "truncate"):
                op.execute(f"DROP TRIGGER tr_digests_{source}_{event} ON {table}")
            op.execute(f"DROP FUNCTION analytics_digests_on_{source}()")
            op.execute(f"DROP FUNCTION analytics_digests_truncated_{source}()")
    else:
        for name in _sqlite_triggers():
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table(TABLE)
