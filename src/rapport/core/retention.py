"""Retention: rows nobody needs any more (finished and dead jobs, month-old domain events,
settled webhook deliveries, old failed sign-ins) are deleted a chunk per transaction.

A domain registers a rule with `retain(name, keep, prune)`, next to its jobs: `prune(session,
before, limit, after)` looks at the next `limit` of its rows (oldest first, after the id
`after`) made before `before`, deletes the ones that may go and returns where to go on from
(None: nothing is left to look at). Once a day `core.prune` queues one job per rule; each job
does one such chunk and queues the next. So however much has piled up (a busy shop finishes
millions of jobs a week), a transaction holds SQLite's writer, or a PostgreSQL connection,
for milliseconds (bench/retention.py: 7.6 ms at the median on SQLite, more when a WAL
checkpoint falls in it) instead of the minutes one DELETE would take, and requests go on
while it runs. Each night starts again from the oldest row: a row that stays (a dead job, a
pending delivery) is looked at again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.db import IdMixin
from rapport.core.ids import first_id_at
from rapport.core.jobs import enqueue, job, schedule

PRUNE_JOB = "core.prune"
# Rows looked at per transaction: deleting 100 jobs (with their indexes) holds SQLite's
# writer for a few milliseconds (bench/retention.py).
PRUNE_CHUNK = 100

Prune = Callable[[AsyncSession, datetime, int, str | None], Awaitable[str | None]]


@dataclass(frozen=True)
class RetentionRule:
    """What a domain keeps, and for how long: rows older than `keep` go, `prune` deletes them."""

    name: str
    keep: timedelta
    prune: Prune


_rules: dict[str, RetentionRule] = {}


def retain(name: str, keep: timedelta, prune: Prune) -> None:
    """Register a retention rule (at import, next to the domain's jobs)."""
    existing = _rules.get(name)
    if existing is not None and existing.prune is not prune:
        raise ValueError(f"retention rule {name!r} is already registered")
    _rules[name] = RetentionRule(name, keep, prune)


def retention_rules() -> list[RetentionRule]:
    """Return the registered rules, by name."""
    return [_rules[name] for name in sorted(_rules)]


async def delete_oldest(
    session: AsyncSession,
    model: type[IdMixin],
    before: datetime,
    limit: int,
    after: str | None,
    *where: ColumnElement[bool],
) -> str | None:
    """Look at the next `limit` rows of a table made before `before`, after the id `after`,
    and delete those that match `where` (conditions on rows that no longer change: a
    finished job, a settled delivery). Return the last id looked at, or None when fewer than
    `limit` were left.

    Only the primary key finds the rows (ids sort by creation time), and `where` is read as
    a column of that window, never used to find rows: SQLite, without table statistics,
    would otherwise walk an index on one of its columns (every finished job) instead."""
    doomed = and_(*where) if where else true()
    window = select(model.id, doomed).where(model.id < first_id_at(before))
    if after is not None:
        window = window.where(model.id > after)
    rows = (await session.execute(window.order_by(model.id).limit(limit))).all()
    going = [row[0] for row in rows if row[1]]
    if going:
        await session.execute(
            delete(model).where(model.id.in_(going)),
            execution_options={"synchronize_session": False},
        )
    return rows[-1][0] if len(rows) == limit else None


@job(PRUNE_JOB)
async def prune(session: AsyncSession, rule: str | None = None, after: str | None = None) -> None:
    """Without a rule: queue one run per registered rule. With one: prune a chunk of its old
    rows (after the id `after`), and queue the next chunk while there may be more."""
    if rule is None:
        for registered in retention_rules():
            enqueue(session, PRUNE_JOB, rule=registered.name)
        return
    definition = _rules.get(rule)
    if definition is None:
        raise LookupError(f"no retention rule {rule!r}")
    going_on = await definition.prune(session, utcnow() - definition.keep, PRUNE_CHUNK, after)
    if going_on is not None:
        enqueue(session, PRUNE_JOB, rule=rule, after=going_on)


schedule(PRUNE_JOB, "17 3 * * *")
