"""The backlog finds the finished conversations once, grouped, not with a subquery per
conversation (which SQLite, planning without statistics, ran over the workspace's window
index each time: seconds for 20,000 conversations); retention reads a window's orders, not
the workspace's whole order history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from rapport.analytics.support_metrics import facts_query
from rapport.core.db import Database
from rapport.events.reports import customer_activity_query, first_orders_query
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


async def test_retention_reads_the_window_and_its_threshold_not_every_order(
    database: Database,
) -> None:
    if database.is_postgres:
        pytest.skip("SQLite's planner")
    query = customer_activity_query(
        "w" * 32,
        start=datetime(2026, 3, 3, tzinfo=UTC),
        end=datetime(2026, 4, 3, tzinfo=UTC),
        inactivity=timedelta(days=90),
    )
    plan = await _plan(database, query)
    assert "ix_orders_placed (workspace_id=? AND placed_at>? AND placed_at<?)" in plan, plan
    # A first order is checked against the customer's earlier ones through their index.
    assert "ix_orders_customer (workspace_id=? AND customer_id=? AND placed_at<?)" in plan, plan


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


async def test_retention_reads_orders_from_the_index_alone(database: Database) -> None:
    if database.is_postgres:
        pytest.skip("SQLite's planner")
    start = datetime(2026, 3, 3, tzinfo=UTC)
    query = customer_activity_query(
        "w" * 32, start=start, end=start + timedelta(days=30), inactivity=timedelta(days=90)
    )
    plan = await _plan(database, query)
    assert "COVERING INDEX ix_orders_placed (workspace_id=? AND placed_at>?" in plan, plan


async def test_earlier_orders_are_looked_up_per_customer(database: Database) -> None:
    """A per-day series asks which of a window's new buyers ordered before it: through each
    customer's own orders, never every order placed before the window (with a bound on
    the time, SQLite preferred the covering placed index: 9 s at a million orders)."""
    if database.is_postgres:
        pytest.skip("SQLite's planner")
    query = first_orders_query("w" * 32, ["c" * 32, "d" * 32])
    plan = await _plan(database, query)
    index = "ix_orders_customer (workspace_id=? AND customer_id=?)"
    assert index in plan, plan
