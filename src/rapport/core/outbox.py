"""Domain events: recorded in the same transaction as the change, delivered to subscribers
as jobs, so a reaction happens exactly when the change commits."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import JSON, BindParameter, Select, String, Table, bindparam, insert, inspect
from sqlalchemy.event import listens_for
from sqlalchemy.ext.asyncio import AsyncSession, async_session
from sqlalchemy.orm import Mapped, Session, mapped_column

from rapport.core.clock import utcnow
from rapport.core.db import Base, IdMixin
from rapport.core.ids import new_id, new_ids
from rapport.core.jobs import enqueue
from rapport.core.retention import delete_oldest, retain

# Subscribers' jobs are queued with the event and run within moments of it; only webhook
# fan-out reads the row (for its name), so after a month nothing reads an event any more.
DOMAIN_EVENT_RETENTION = timedelta(days=30)

# Which events a subscriber's job is queued for, judged from the event's data alone.
When = Callable[[Mapping[str, Any]], bool]
# What a subscriber needs in the event's workspace to have anything to do (webhook fan-out:
# an endpoint that is on), as a query finding it. Most workspaces have none, so its job row,
# its claim and its run would do nothing: the query runs instead, once per workspace, when
# the event's transaction writes (in that transaction: nothing cached to go stale).
# `needs(workspace_id)` is called once, with a bound parameter, and the query it returns is
# kept: each check then runs it without building it again.
Needs = Callable[[BindParameter[str]], Select[Any]]
_subscribers: dict[str, dict[str, tuple[When | None, Select[Any] | None]]] = defaultdict(dict)
# session.info: the events published in it whose subscribers' needs are yet to be checked.
_NEEDED = "outbox_needed"
logger = logging.getLogger(__name__)


class DomainEvent(IdMixin, Base):
    """A fact another part of Rapport may react to (`order.completed`, ...)."""

    __tablename__ = "domain_events"

    workspace_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def subscribe(
    event_name: str, job_name: str, *, when: When | None = None, needs: Needs | None = None
) -> None:
    """Run the job `job_name(session, event_id=..., **data)` for every `event_name` (with
    `when`, only for the events whose data it accepts; with `needs`, only in workspaces
    where its query finds a row when the event is written: no job row for the others)."""
    query = needs(bindparam("workspace_id")).limit(1) if needs is not None else None
    _subscribers[event_name].setdefault(job_name, (when, query))


def subscriptions() -> dict[str, list[str]]:
    """Return every event name with the jobs subscribed to it."""
    return {name: list(jobs) for name, jobs in _subscribers.items() if jobs}


def _jobs_for(name: str, data: Mapping[str, Any]) -> list[tuple[str, Select[Any] | None]]:
    subscribers = _subscribers.get(name, {})
    return [
        (job, needs) for job, (when, needs) in subscribers.items() if when is None or when(data)
    ]


def publish(session: AsyncSession, name: str, *, workspace_id: str, **data: Any) -> DomainEvent:
    """Record a domain event and enqueue its subscribers, in the caller's transaction (those
    with `needs` when the transaction writes the event, if their query finds a row)."""
    event = DomainEvent(id=new_id(), workspace_id=workspace_id, name=name, data=data)
    session.add(event)
    for job_name, needs in _jobs_for(name, data):
        if needs is None:
            enqueue(session, job_name, workspace_id=workspace_id, event_id=event.id, **data)
        else:
            waiting = session.info.setdefault(_NEEDED, {})
            waiting.setdefault(event, []).append((job_name, needs))
    return event


@listens_for(Session, "before_flush")
def _enqueue_needed(session: Session, flush_context: Any, instances: Any) -> None:
    """Enqueue the jobs of the events about to be written whose subscribers' queries find
    what they need, one query per workspace and subscriber. An event rolled back before its
    flush is no longer pending, and its jobs are dropped. Should a query fail, the jobs this
    flush queued are taken back and every event stays waiting, as the flush fails."""
    waiting: dict[DomainEvent, list[tuple[str, Select[Any]]]] = session.info.get(_NEEDED) or {}
    if not waiting:
        return
    unit = cast(AsyncSession, async_session(session) or session)  # enqueue needs add and info
    found: dict[tuple[Select[Any], str], bool] = {}
    queued: list[Any] = []
    try:
        for written, subscribers in waiting.items():
            if written not in session.new:
                if inspect(written).persistent:  # written without the check: a bug to see
                    logger.error("outbox: an event was written before its subscribers' needs")
                continue
            for job_name, needs in subscribers:
                key = (needs, written.workspace_id)
                if key not in found:
                    params = {"workspace_id": written.workspace_id}
                    found[key] = session.execute(needs, params).first() is not None
                if found[key]:
                    queued.append(
                        enqueue(
                            unit, job_name, workspace_id=written.workspace_id,
                            event_id=written.id, **written.data,
                        )
                    )  # fmt: skip
    except BaseException:
        for job in queued:
            session.expunge(job)
        raise
    del session.info[_NEEDED]


async def publish_many(
    session: AsyncSession, workspace_id: str, events: Sequence[tuple[str, dict[str, Any]]]
) -> None:
    """Record many domain events (name, data) with one statement and enqueue each one's
    subscribers, in the caller's transaction: `publish` for a bulk writer (an import
    publishes one event per order), without an ORM object per event."""
    if not events:
        return
    ids, now = new_ids(len(events)), utcnow()
    rows = [
        {"id": event_id, "created_at": now, "workspace_id": workspace_id, "name": name}
        | {"data": data}
        for event_id, (name, data) in zip(ids, events, strict=True)
    ]
    await session.execute(insert(cast(Table, DomainEvent.__table__)), rows)
    found: dict[Select[Any], bool] = {}
    for event_id, (name, data) in zip(ids, events, strict=True):
        for job_name, needs in _jobs_for(name, data):
            if needs is not None and needs not in found:
                params = {"workspace_id": workspace_id}
                found[needs] = (await session.execute(needs, params)).first() is not None
            if needs is None or found[needs]:
                enqueue(session, job_name, workspace_id=workspace_id, event_id=event_id, **data)


async def prune_events(
    session: AsyncSession, before: datetime, limit: int, after: str | None
) -> str | None:
    """Delete a chunk of the domain events recorded before `before`, oldest first; return
    where the next chunk starts."""
    return await delete_oldest(session, DomainEvent, before, limit, after)


retain("domain_events", DOMAIN_EVENT_RETENTION, prune_events)
