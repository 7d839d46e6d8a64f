"""Retention: rows nobody needs any more (finished jobs, domain events already handed on,
settled webhook deliveries) are deleted a chunk per transaction.

A domain registers a rule with `retain(name, keep, prune)`, next to its jobs: `prune(session,
before, limit)` deletes at most `limit` of its rows older than `before` and returns how many
it deleted. Once a day `core.prune` queues one job per rule; each deletes one chunk and, when
the chunk was full, queues the next. So however much has piled up (a busy shop finishes
millions of jobs a week), no transaction holds SQLite's writer, or a PostgreSQL connection,
for more than a few milliseconds, and requests go on while it runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.db import IdMixin
from rapport.core.ids import first_id_at
from rapport.core.jobs import enqueue, job, schedule

PRUNE_JOB = "core.prune"
# Rows deleted per transaction: a few milliseconds of SQLite's writer with their indexes.
PRUNE_CHUNK = 500

Prune = Callable[[AsyncSession, datetime, int], Awaitable[int]]


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
    *where: ColumnElement[bool],
) -> int:
    """Delete up to `limit` of a table's rows made before `before` that match `where`, oldest
    first; return how many. Ids sort by creation time, so the primary key bounds the scan."""
    query = (
        select(model.id)
        .where(model.id < first_id_at(before), *where)
        .order_by(model.id)
        .limit(limit)
    )
    ids = list((await session.execute(query)).scalars())
    if ids:
        await session.execute(
            delete(model).where(model.id.in_(ids)),
            execution_options={"synchronize_session": False},
        )
    return len(ids)


@job(PRUNE_JOB)
async def prune(session: AsyncSession, rule: str | None = None) -> None:
    """Without a rule: queue one run per registered rule. With one: delete a chunk of its old
    rows, and queue the next chunk when this one was full."""
    if rule is None:
        for registered in retention_rules():
            enqueue(session, PRUNE_JOB, rule=registered.name)
        return
    definition = _rules.get(rule)
    if definition is None:
        raise LookupError(f"no retention rule {rule!r}")
    deleted = await definition.prune(session, utcnow() - definition.keep, PRUNE_CHUNK)
    if deleted >= PRUNE_CHUNK:
        enqueue(session, PRUNE_JOB, rule=rule)


schedule(PRUNE_JOB, "17 3 * * *")
