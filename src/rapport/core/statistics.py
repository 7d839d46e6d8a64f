"""PostgreSQL's planner statistics kept up with tables that grow fast.

PostgreSQL picks a plan from what its statistics say about a table (how many rows, how
many per workspace). Autovacuum refreshes them once a tenth of a table has changed, and it
looks at most once a minute (`autovacuum_naptime`). A table that grows from nothing in
minutes is planned as if it were still empty until then. That happens to a new shop's first
backfill, where identity resolution adds a profile for every new visitor. A connection keeps
its plans, so the damage lasts. Measured on a fresh database (`bench/ingest.py`'s events):
looking up a chunk's identifiers and profiles walked every row of the workspace, about
7 ms a statement at 5,000 profiles and more as the table grew, where the index lookups take
under a millisecond (processing's figures before and after: docs/customer-data.md).

`grew(session, table, rows)` counts the rows this process added to a table. Past a threshold
(`MIN_ROWS` plus `SHARE` of the rows the table had at this process's last ANALYZE of it), the
table is analysed once the transaction commits, in a task and a short transaction of its own:
the unit of work that committed does not wait for it (ingestion's group commit answers a
whole group of requests after its commit, and a large table's sample takes a few hundred
milliseconds). ANALYZE reads a fixed-size sample (its time does not grow with the table) and
its lock blocks neither reads nor writes. Analysing a table invalidates the plans cached for
it, in every connection.

On SQLite this does nothing: there, statements that must use a given index are written so
that only it can serve them (see `TenantRepository.in_workspace`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.core.db import after_commit

logger = logging.getLogger(__name__)

MIN_ROWS = 1000  # rows added before a table's first ANALYZE by this process
SHARE = 0.2  # then this share of the rows it had at the last one
_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass
class _Table:
    """What this process knows of one table's growth."""

    added: int = 0  # rows added since this process last analysed it
    rows: float = 0.0  # rows it had then (PostgreSQL's estimate)
    running: bool = False


# Per database (its engine), per table.
_tables: weakref.WeakKeyDictionary[Engine, dict[str, _Table]] = weakref.WeakKeyDictionary()
# Analyses under way (a task is dropped once done).
_running: set[asyncio.Task[None]] = set()


def grew(session: AsyncSession, table: str, rows: int) -> None:
    """Count `rows` added to `table` in this transaction; once they reach the threshold, the
    table is analysed after the commit (PostgreSQL only)."""
    engine = session.bind
    if rows <= 0 or not isinstance(engine, AsyncEngine) or engine.dialect.name != "postgresql":
        return
    if not _TABLE_NAME.match(table):
        raise ValueError(f"not a table name: {table!r}")
    state = _tables.setdefault(engine.sync_engine, {}).setdefault(table, _Table())
    state.added += rows
    if state.added >= MIN_ROWS + SHARE * state.rows:
        after_commit(session, _Analysis(engine, table, state), once=True)


@dataclass(frozen=True)
class _Analysis:
    """ANALYZE one table after a commit, in a transaction of its own."""

    engine: AsyncEngine
    table: str
    state: _Table = field(compare=False)

    async def __call__(self) -> None:
        """Start analysing the table in a task of its own (unless this process is at it
        already) and return at once."""
        if self.state.running:
            return
        self.state.running = True
        task = asyncio.create_task(self._analyse())
        _running.add(task)
        task.add_done_callback(_running.discard)

    async def _analyse(self) -> None:
        """Analyse the table; a failure is logged, never raised: this runs after another unit
        of work's commit."""
        state = self.state
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text(f"ANALYZE {self.table}"))
                rows = await connection.scalar(
                    text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"),
                    {"table": self.table},
                )
                await connection.commit()
            state.added, state.rows = 0, max(float(rows or 0), 0.0)
        except Exception as error:  # statistics are an optimisation: the work goes on
            logger.warning(
                "analyze failed", extra={"table": self.table, "error": type(error).__name__}
            )
        finally:
            state.running = False


async def settled() -> None:
    """Wait until the analyses this event loop started have finished."""
    loop = asyncio.get_running_loop()
    while mine := [task for task in _running if task.get_loop() is loop]:
        await asyncio.gather(*mine)
