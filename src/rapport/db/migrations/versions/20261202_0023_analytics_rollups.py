"""analytics backlog stretches

Revision ID: 20261202_0023
Revises: 20261202_0022
Create Date: 2026-12-02 13:40:00

analytics_backlog_stretches: one row per stretch of time in which a conversation counts in
the backlog, (began_at, ended_at] (ended_at null: it still counts). A conversation counts at
t when it was created before t and its last cycle end (resolution or close) before t is not
later than its last reopen before t (docs/metrics.md, "Backlog"); the rows are exactly the
runs of t for which that holds. Database triggers derive a conversation's rows again from its
cycle events whenever one of them, or the conversation, is inserted, changed or deleted, in
the same transaction as that write: no code path can forget them, and the backlog at t reads
only the stretches that end at or after t (ix_analytics_backlog_stretches_end) instead of
every cycle event of the workspace's history. The upgrade back-fills every conversation.
"""

# The SQL below is assembled from this module's constants and trigger row names (NEW.id):
# nothing of it comes from input.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0023"
down_revision: str | None = "20261202_0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "analytics_backlog_stretches"
CYCLE_KINDS = "('resolution', 'closed', 'reopen')"
COLUMNS = (
    "conversation_id, workspace_id, began_at, ended_at, channel, team_id, assignee_id, "
    "merged_into_id"
)
# The conversation's columns copied onto its stretches (the backlog's filters): a change to
# one of them writes the conversation's stretches again.
COPIED = "created_at, workspace_id, channel, team_id, assignee_id, merged_into_id"


# Covering: the backlog at t reads this index alone.
INDEXED = (
    "workspace_id", "ended_at", "began_at", "merged_into_id", "channel", "team_id", "assignee_id",
)  # fmt: skip


FLIPS = "analytics_backlog_flips"


def flips_query(conversation: str | None) -> str:
    """Return the SELECT of the flips of one conversation (None: of every conversation).

    Each distinct time of a cycle end or reopen sets the state after it: counted (1) when a
    reopen happened then, not counted (0) otherwise. The flips are the times the state
    changes; the n-th flip to 0 ends stretch n, the n-th flip to 1 begins stretch n + 1."""
    events = "" if conversation is None else f"AND conversation_id = {conversation}"
    return f"""
        SELECT conversation_id, at, reopened,
               ROW_NUMBER() OVER (PARTITION BY conversation_id, reopened ORDER BY at) AS n
        FROM (
            SELECT conversation_id, at, reopened,
                   LAG(reopened, 1, 1) OVER (PARTITION BY conversation_id ORDER BY at) AS before
            FROM (
                SELECT conversation_id, created_at AS at,
                       MAX(CASE WHEN kind = 'reopen' THEN 1 ELSE 0 END) AS reopened
                FROM conversation_metric_events
                WHERE kind IN {CYCLE_KINDS} {events}
                GROUP BY conversation_id, created_at
            ) AS marks
        ) AS changes
        WHERE reopened <> before"""


def derive(conversation: str | None, *, postgres: bool) -> str:
    """Return the INSERT that writes the stretches of one conversation (the SQL expression
    `conversation`) from its flips or, with None, of every conversation from the flips
    table `back_fill` fills first. No WITH clause: SQLite refuses common table expressions
    inside triggers."""
    flips = FLIPS if conversation is None else f"({flips_query(conversation)})"
    chats = "" if conversation is None else f"WHERE id = {conversation}"
    joined = "" if conversation is None else f"WHERE c.id = {conversation}"
    no_time = "CAST(NULL AS TIMESTAMP WITH TIME ZONE)" if postgres else "NULL"
    return f"""
    INSERT INTO {TABLE} ({COLUMNS})
    SELECT {COLUMNS} FROM (
        SELECT c.id AS conversation_id, c.workspace_id AS workspace_id,
               c.channel AS channel, c.team_id AS team_id, c.assignee_id AS assignee_id,
               c.merged_into_id AS merged_into_id,
               CASE WHEN s.began IS NULL OR s.began < c.created_at THEN c.created_at
                    ELSE s.began END AS began_at,
               e.at AS ended_at
        FROM conversations AS c
        JOIN (
            SELECT id AS conversation_id, 1 AS n, {no_time} AS began FROM conversations {chats}
            UNION ALL
            SELECT conversation_id, n + 1 AS n, at AS began FROM {flips} AS opened
            WHERE reopened = 1
        ) AS s ON s.conversation_id = c.id
        LEFT JOIN (
            SELECT conversation_id, n, at FROM {flips} AS closed WHERE reopened = 0
        ) AS e ON e.conversation_id = s.conversation_id AND e.n = s.n
        {joined}
    ) AS derived
    WHERE ended_at IS NULL OR ended_at > began_at
    """


def back_fill(*, postgres: bool) -> list[str]:
    """Return the statements that write the stretches of every conversation: the flips of
    all of them into an indexed temporary table first (one pass over the cycle events), so
    the stretches join them by conversation instead of computing them again per row."""
    return [
        f"CREATE TEMPORARY TABLE {FLIPS} AS {flips_query(None)}",
        f"CREATE INDEX ix_{FLIPS} ON {FLIPS} (conversation_id, reopened, n)",
        derive(None, postgres=postgres),
        f"DROP TABLE {FLIPS}",
    ]


def _sqlite_triggers() -> list[str]:
    def again(conversation: str) -> str:
        return (
            f"DELETE FROM {TABLE} WHERE conversation_id = {conversation};\n"
            f"{derive(conversation, postgres=False)};"
        )

    return [
        f"""CREATE TRIGGER tr_analytics_stretches_event_insert
        AFTER INSERT ON conversation_metric_events WHEN NEW.kind IN {CYCLE_KINDS}
        BEGIN {again("NEW.conversation_id")} END""",
        f"""CREATE TRIGGER tr_analytics_stretches_event_delete
        AFTER DELETE ON conversation_metric_events WHEN OLD.kind IN {CYCLE_KINDS}
        BEGIN {again("OLD.conversation_id")} END""",
        f"""CREATE TRIGGER tr_analytics_stretches_event_update
        AFTER UPDATE OF kind, created_at, conversation_id ON conversation_metric_events
        WHEN OLD.kind IN {CYCLE_KINDS} OR NEW.kind IN {CYCLE_KINDS}
        BEGIN {again("OLD.conversation_id")} {again("NEW.conversation_id")} END""",
        f"""CREATE TRIGGER tr_analytics_stretches_conversation_insert
        AFTER INSERT ON conversations
        BEGIN {again("NEW.id")} END""",
        f"""CREATE TRIGGER tr_analytics_stretches_conversation_update
        AFTER UPDATE OF {COPIED} ON conversations
        BEGIN {again("NEW.id")} END""",
        f"""CREATE TRIGGER tr_analytics_stretches_conversation_delete
        AFTER DELETE ON conversations
        BEGIN DELETE FROM {TABLE} WHERE conversation_id = OLD.id; END""",
    ]


SQLITE_TRIGGERS = (
    "tr_analytics_stretches_event_insert",
    "tr_analytics_stretches_event_delete",
    "tr_analytics_stretches_event_update",
    "tr_analytics_stretches_conversation_insert",
    "tr_analytics_stretches_conversation_update",
    "tr_analytics_stretches_conversation_delete",
)


def _postgres_statements() -> list[str]:
    return [
        f"""CREATE FUNCTION analytics_derive_stretches(conversation varchar) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {TABLE} WHERE conversation_id = conversation;
            {derive("conversation", postgres=True)};
        END $$""",
        f"""CREATE FUNCTION analytics_stretches_on_event() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.kind IN {CYCLE_KINDS} THEN
                PERFORM analytics_derive_stretches(OLD.conversation_id);
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.kind IN {CYCLE_KINDS} THEN
                PERFORM analytics_derive_stretches(NEW.conversation_id);
            END IF;
            RETURN NULL;
        END $$""",
        f"""CREATE FUNCTION analytics_stretches_on_conversation() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM {TABLE} WHERE conversation_id = OLD.id;
            ELSE
                PERFORM analytics_derive_stretches(NEW.id);
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER tr_analytics_stretches_event
        AFTER INSERT OR DELETE OR UPDATE OF kind, created_at, conversation_id
        ON conversation_metric_events
        FOR EACH ROW EXECUTE FUNCTION analytics_stretches_on_event()""",
        f"""CREATE TRIGGER tr_analytics_stretches_conversation
        AFTER INSERT OR DELETE OR UPDATE OF {COPIED} ON conversations
        FOR EACH ROW EXECUTE FUNCTION analytics_stretches_on_conversation()""",
    ]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("began_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("merged_into_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{TABLE}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "began_at", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index("ix_analytics_backlog_stretches_end", TABLE, list(INDEXED))
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in back_fill(postgres=postgres):
        op.execute(statement)
    for statement in _postgres_statements() if postgres else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tr_analytics_stretches_conversation ON conversations")
        op.execute("DROP TRIGGER tr_analytics_stretches_event ON conversation_metric_events")
        for function in (
            "analytics_stretches_on_conversation()",
            "analytics_stretches_on_event()",
            "analytics_derive_stretches(varchar)",
        ):
            op.execute(f"DROP FUNCTION {function}")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_index("ix_analytics_backlog_stretches_end", table_name=TABLE)
    op.drop_table(TABLE)
