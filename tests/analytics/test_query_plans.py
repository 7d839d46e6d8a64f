"""The backlog finds the finished conversations once, grouped, not with a subquery per
conversation (which SQLite, planning without statistics, ran over the workspace's window
index each time: seconds for 20,000 conversations); retention reads a window's orders, not
the workspace's whole order history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from rapport.analytics.backlog import opened_by_query
from rapport.analytics.support_metrics import facts_query
from rapport.core.db import Database
from rapport.events.reports import counted_orders_query, ordered_before_query
from rapport.feedback.repository import ResponseFilters, ResponseRepository
from rapport.support.reports import MetricScope, SupportReports


def _compiled(query: Any) -> tuple[str, tuple[Any, ...]]:
    """Return `query` as SQLite's SQL text and its positional parameters."""
    compiled = query.compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
    return str(compiled), tuple(compiled.params[name] for name in compiled.positiontup)


async def _plan(database: Database, query: Any) -> str:
    sql, parameters = _compiled(query)
    async with database.session() as session:
        connection = await session.connection()
        result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
        return " | ".join(str(row[-1]) for row in result)


async def test_the_backlog_runs_no_subquery_per_conversation(database: Database) -> None:
    if database.is_postgres:
        pytest.skip("SQLite's planner")
    async with database.session() as session:
        query = SupportReports(session, "w" * 32).backlog_query(
            datetime(2026, 3, 3, tzinfo=UTC), MetricScope()
        )
    plan = await _plan(database, query)
    window = "ix_conversation_metric_events_window (workspace_id=? AND kind=? AND created_at<?)"
    assert "CORRELATED" not in plan, plan
    assert window in plan, plan


async def test_retention_reads_a_span_of_orders_from_the_index_alone(
    database: Database,
) -> None:
    """The orders of a window and its threshold come from `ix_orders_placed` alone, in its
    order (no sort), never the workspace's whole order history."""
    if database.is_postgres:
        pytest.skip("SQLite's planner")
    start = datetime(2026, 3, 3, tzinfo=UTC)
    query = counted_orders_query("w" * 32, start - timedelta(days=90), start)
    plan = await _plan(database, query)
    index = "COVERING INDEX ix_orders_placed (workspace_id=? AND placed_at>? AND placed_at<?)"
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan, plan


async def _table_columns_read(database: Database, query: Any, table: str) -> int:
    """Return how many column reads SQLite's program for `query` makes from `table`'s rows
    (EXPLAIN's opcodes: a `Column` on a cursor opened on the table's root page)."""
    sql, parameters = _compiled(query)
    async with database.session() as session:
        connection = await session.connection()
        root = (
            await connection.exec_driver_sql(
                "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            )
        ).scalar_one()
        program = list(await connection.exec_driver_sql(f"EXPLAIN {sql}", parameters))
    # EXPLAIN's columns: addr, opcode, p1, p2, p3, p4, p5, comment.
    cursors = {row[2] for row in program if row[1] == "OpenRead" and row[3] == root}
    return sum(1 for row in program if row[1] == "Column" and row[2] in cursors)


async def test_a_window_of_metric_events_is_read_from_its_index(database: Database) -> None:
    """Every column the support metrics read is in the window index but a resolution's data,
    so an event's row is visited only for that (SQLite defers the seek until a column needs
    it), not once per event: a month of a busy shop's events is 160,000 rows
    (bench/analytics.py)."""
    if database.is_postgres:
        pytest.skip("SQLite's planner")
    start = datetime(2026, 3, 3, tzinfo=UTC)
    query = facts_query("w" * 32, start, start + timedelta(days=30), MetricScope())
    plan = await _plan(database, query)
    index = "ix_conversation_metric_events_window (workspace_id=? AND kind=? AND created_at>?"
    assert index in plan, plan
    # The only reads from the table are `data`'s two keys, inside a resolution's CASE (on
    # the index of migration 0020 it was eight: every column but kind and created_at).
    assert await _table_columns_read(database, query, "conversation_metric_events") == 2


async def test_earlier_orders_are_looked_up_per_customer(database: Database) -> None:
    """A window's new buyers are checked for an earlier order through each one's own orders
    (`ix_orders_customer`, from the index alone), never every order placed before the
    window (with a bound on the time, SQLite once preferred the placed index: 9 s at a
    million orders)."""
    if database.is_postgres:
        pytest.skip("SQLite's planner")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    query = ordered_before_query("w" * 32, ["c" * 32, "d" * 32], moment, postgres=False)
    plan = await _plan(database, query)
    index = "COVERING INDEX ix_orders_customer (workspace_id=? AND customer_id=? AND placed_at<?)"
    assert index in plan, plan
    assert "ix_orders_placed" not in plan, plan


async def test_a_breakdowns_volumes_read_the_created_index_alone(database: Database) -> None:
    """83,000 conversations a month at a busy shop's size: counted from the index, not from
    their rows (migration 0032)."""
    if database.is_postgres:
        pytest.skip("SQLite's planner")
    start = datetime(2026, 3, 3, tzinfo=UTC)
    for by in ("channel", "team", "agent"):
        query = opened_by_query("w" * 32, (start, start + timedelta(days=30)), MetricScope(), by)
        plan = await _plan(database, query)
        assert "COVERING INDEX ix_conversations_created" in plan, plan
        assert await _table_columns_read(database, query, "conversations") == 0


async def test_survey_scores_read_the_answered_index_alone(database: Database) -> None:
    if database.is_postgres:
        pytest.skip("SQLite's planner")
    start = datetime(2026, 3, 3, tzinfo=UTC)
    async with database.session() as session:
        repository = ResponseRepository(session, "w" * 32)
        query = repository.histogram_query(
            "nps", start, start + timedelta(days=30), ResponseFilters(channel="chat")
        )
    plan = await _plan(database, query)
    assert "COVERING INDEX ix_feedback_responses_kind_answered" in plan, plan
    assert await _table_columns_read(database, query, "feedback_responses") == 0
