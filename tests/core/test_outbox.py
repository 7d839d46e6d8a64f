"""Domain events: a subscriber's job is queued with the event, only for the events it takes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rapport.core import outbox
from rapport.core.db import Database
from rapport.core.outbox import publish, publish_many, subscribe
from tests.fixtures.jobs import all_jobs

EVENT = "test.filtered_event"


@pytest.fixture
def subscribed() -> Iterator[None]:
    """Subscribe two jobs to EVENT (one of them only to events marked "yes"), for one test."""
    subscribe(EVENT, "test.record_effect")
    subscribe(EVENT, "test.always_fails", when=lambda data: data.get("marker") == "yes")
    yield
    del outbox._subscribers[EVENT]


async def _queued(database: Database) -> list[tuple[str, Any]]:
    return sorted((job.name, job.payload["marker"]) for job in await all_jobs(database))


async def test_a_subscriber_with_when_gets_only_the_events_it_takes(
    database: Database, subscribed: None
) -> None:
    async with database.session() as session:
        publish(session, EVENT, workspace_id="w1", marker="yes")
        publish(session, EVENT, workspace_id="w1", marker="no")
    assert await _queued(database) == [
        ("test.always_fails", "yes"),
        ("test.record_effect", "no"),
        ("test.record_effect", "yes"),
    ]


async def test_publish_many_applies_the_same_filter(database: Database, subscribed: None) -> None:
    async with database.session() as session:
        await publish_many(session, "w1", [(EVENT, {"marker": "yes"}), (EVENT, {"marker": "no"})])
    assert await _queued(database) == [
        ("test.always_fails", "yes"),
        ("test.record_effect", "no"),
        ("test.record_effect", "yes"),
    ]
