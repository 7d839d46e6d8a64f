"""Domain events: recorded in the same transaction as the change, delivered to subscribers
as jobs, so a reaction happens exactly when the change commits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import JSON, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

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
_subscribers: dict[str, dict[str, When | None]] = defaultdict(dict)


class DomainEvent(IdMixin, Base):
    """A fact another part of Rapport may react to (`order.completed`, ...)."""

    __tablename__ = "domain_events"

    workspace_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def subscribe(event_name: str, job_name: str, *, when: When | None = None) -> None:
    """Run the job `job_name(session, event_id=..., **data)` for every `event_name` (with
    `when`, only for the events whose data it accepts: no job row for the others)."""
    _subscribers[event_name].setdefault(job_name, when)


def subscriptions() -> dict[str, list[str]]:
    """Return every event name with the jobs subscribed to it."""
    return {name: list(jobs) for name, jobs in _subscribers.items() if jobs}


def _jobs_for(name: str, data: Mapping[str, Any]) -> list[str]:
    subscribers = _subscribers.get(name, {})
    return [job for job, when in subscribers.items() if when is None or when(data)]


def publish(session: AsyncSession, name: str, *, workspace_id: str, **data: Any) -> DomainEvent:
    """Record a domain event and enqueue its subscribers, in the caller's transaction."""
    event = DomainEvent(id=new_id(), workspace_id=workspace_id, name=name, data=data)
    session.add(event)
    for job_name in _jobs_for(name, data):
        enqueue(session, job_name, workspace_id=workspace_id, event_id=event.id, **data)
    return event


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
    for event_id, (name, data) in zip(ids, events, strict=True):
        for job_name in _jobs_for(name, data):
            enqueue(session, job_name, workspace_id=workspace_id, event_id=event_id, **data)


async def prune_events(
    session: AsyncSession, before: datetime, limit: int, after: str | None
) -> str | None:
    """Delete a chunk of the domain events recorded before `before`, oldest first; return
    where the next chunk starts."""
    return await delete_oldest(session, DomainEvent, before, limit, after)


retain("domain_events", DOMAIN_EVENT_RETENTION, prune_events)
