"""jobs: PostgreSQL sends the wake-up NOTIFY itself when job rows are inserted

Revision ID: 20261205_0034
Revises: 20261205_0033
Create Date: 2026-12-05 12:10:00

Until now every transaction that enqueued a job sent `SELECT pg_notify(...)` just before its
commit: one more round trip to the server in every unit of work that queues something (a
customer's message and the assistant's reply each did). A statement-level trigger on `jobs`
sends the same notification inside the inserting statement; PostgreSQL still delivers it only
if, and when, the transaction commits, and folds repeats within one transaction into one.
SQLite has no NOTIFY (its workers are woken in the enqueuing process): nothing changes there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261205_0034"
down_revision: str | None = "20261205_0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channel workers LISTEN on (rapport.core.jobs.JOBS_CHANNEL), written out: a migration
# keeps the value it shipped with.
CHANNEL = "rapport_jobs"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION rapport_notify_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER jobs_notify AFTER INSERT ON jobs "
        "FOR EACH STATEMENT EXECUTE FUNCTION rapport_notify_jobs()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER jobs_notify ON jobs")
    op.execute("DROP FUNCTION rapport_notify_jobs()")
