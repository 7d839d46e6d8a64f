"""Domain events: a subscriber's job is queued with the event, only for the events it takes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import BindParameter, Select, select

from rapport.core import outbox
from rapport.core.db import Database
from rapport.core.outbox import DomainEvent, publish, publish_many, subscribe
from tests.fixtures.jobs import all_jobs
from tests.fixtures.statements import statements_recorded

EVENT = "test.filtered_event"
NEEDED = "test.needed_event"
MARKER_ROW = "test.something_to_do"  # a workspace with such an event has work for the job


def _has_work(workspace_id: BindParameter[str]) -> Select[Any]:
    return select(DomainEvent.id).where(
        DomainEvent.workspace_id == workspace_id, DomainEvent.name == MARKER_ROW
    )


@pytest.fixture
def needing() -> Iterator[None]:
    """Subscribe a job to NEEDED that needs a MARKER_ROW event in the workspace."""
    subscribe(NEEDED, "test.record_effect", needs=_has_work)
    yield
    del outbox._subscribers[NEEDED]


def _reads_of_markers(_connection: object, statement: str) -> str | None:
    return statement if statement.lstrip().upper().startswith("SELECT") else None


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


async def test_a_subscriber_that_needs_a_row_is_queued_only_where_it_is_found(
    database: Database, needing: None
) -> None:
    async with database.session() as session:
        session.add(DomainEvent(workspace_id="w1", name=MARKER_ROW, data={}))
    with statements_recorded(database, _reads_of_markers) as reads:
        async with database.session() as session:
            for marker in ("a", "b", "c"):
                publish(session, NEEDED, workspace_id="w1", marker=marker)
            publish(session, NEEDED, workspace_id="w2", marker="elsewhere")
    assert await _queued(database) == [
        ("test.record_effect", "a"),
        ("test.record_effect", "b"),
        ("test.record_effect", "c"),
    ]
    assert len(reads) == 2  # once per workspace, not per event


async def test_an_event_rolled_back_before_its_flush_queues_nothing(
    database: Database, needing: None
) -> None:
    async with database.session() as session:
        session.add(DomainEvent(workspace_id="w1", name=MARKER_ROW, data={}))
    async with database.session() as session:
        publish(session, NEEDED, workspace_id="w1", marker="undone")
        await session.rollback()
        publish(session, NEEDED, workspace_id="w1", marker="kept")
    assert await _queued(database) == [("test.record_effect", "kept")]


async def test_publish_many_checks_the_need_once(database: Database, needing: None) -> None:
    async with database.session() as session:
        await publish_many(session, "w2", [(NEEDED, {"marker": "x"})])
    async with database.session() as session:
        session.add(DomainEvent(workspace_id="w1", name=MARKER_ROW, data={}))
    async with database.session() as session:
        await publish_many(session, "w1", [(NEEDED, {"marker": "y"}), (NEEDED, {"marker": "z"})])
    assert await _queued(database) == [("test.record_effect", "y"), ("test.record_effect", "z")]


async def test_a_check_that_fails_takes_back_its_jobs_and_leaves_the_event_waiting(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.session() as session:
        session.add(DomainEvent(workspace_id="w1", name=MARKER_ROW, data={}))
    subscribe(NEEDED, "test.record_effect", needs=_has_work)
    subscribe(NEEDED, "test.always_fails", needs=_has_work)
    calls: list[str] = []
    real_enqueue = outbox.enqueue

    def enqueue_failing_once(session: Any, name: str, **fields: Any) -> Any:
        calls.append(name)
        if len(calls) == 2:  # the first job is queued, the second fails
            raise RuntimeError("transient")
        return real_enqueue(session, name, **fields)

    monkeypatch.setattr(outbox, "enqueue", enqueue_failing_once)
    try:
        async with database.session() as session:
            publish(session, NEEDED, workspace_id="w1", marker="kept")
            with pytest.raises(RuntimeError):
                await session.flush()
        # the unit commits: its flush checks again and queues each job once
    finally:
        del outbox._subscribers[NEEDED]
    queued = await _queued(database)
    assert queued == [("test.always_fails", "kept"), ("test.record_effect", "kept")]
    assert calls == ["test.record_effect", "test.always_fails"] * 2
