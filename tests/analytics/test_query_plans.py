"""The backlog finds the finished conversations once, grouped, not with a subquery per
conversation (which SQLite, planning without statistics, ran over the workspace's window
index each time: seconds for 20,000 conversations); retention reads a window's orders, not
the workspace's whole order history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from rapport.core.db import Database
from rapport.events.reports import customer_activity_query
from rapport.support.reports import MetricScope, SupportReports


async def _plan(database: Database, query: Any) -> str:
    compiled = query.compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
    parameters = tuple(compiled.params[name] for name in compiled.positiontup)
    async with database.session() as session:
        connection = await session.connection()
        result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", parameters)
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
