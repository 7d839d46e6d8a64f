"""SLAs: deadlines on business time, the policy that matches, warnings then breaches recorded
once each and pushed, late responses judged from the metric events."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from rapport.core.db import Database
from rapport.core.jobs import Job, enqueue
from rapport.core.realtime import get_hub
from rapport.support.routing_calendar import calendars
from rapport.support.routing_models import SlaEvent
from rapport.support.routing_schemas import CalendarUpdate
from rapport.worker.runner import Worker
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.jobs import FrozenClock
from tests.fixtures.routing import make_sla_policy

pytestmark = pytest.mark.usefixtures("app")  # the app registers the support jobs

START = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday
OFFICE = {
    day: [{"start": "09:00", "end": "17:00"}]
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


async def _run_jobs(database: Database) -> None:
    await Worker(database, concurrency=1).run_pending()


async def _check(database: Database, clock: FrozenClock, at: datetime) -> None:
    clock.now = at
    async with database.session() as session:
        enqueue(session, "support.check_slas")
    await _run_jobs(database)


async def _open(client: httpx.AsyncClient, headers: dict[str, str], **extra: object) -> str:
    body = {"message": {"kind": "customer", "body": "Hello"}, **extra}
    response = await client.post("/api/v1/conversations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _say(
    client: httpx.AsyncClient, headers: dict[str, str], conversation_id: str, kind: str
) -> None:
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"kind": kind, "body": "Words"},
        headers=headers,
    )
    assert response.status_code == 201, response.text


async def _events(database: Database, conversation_id: str) -> list[tuple[str, str, datetime]]:
    async with database.session() as session:
        rows = await session.execute(
            select(SlaEvent.target, SlaEvent.kind, SlaEvent.due_at)
            .where(SlaEvent.conversation_id == conversation_id)
            .order_by(SlaEvent.id)
        )
        return [(str(target), str(kind), due) for target, kind, due in rows]


async def _setup(database: Database, **policy: object) -> tuple[str, dict[str, str]]:
    workspace = await make_workspace(database)
    await make_sla_policy(database, workspace.id, **policy)
    return workspace.id, bearer(await make_api_key(database, workspace))


async def test_deadlines_are_set_on_business_time(
    client: httpx.AsyncClient, database: Database
) -> None:
    FrozenClock(datetime(2026, 12, 4, 16, 30, tzinfo=UTC))  # Friday, 30 minutes before closing
    workspace_id, headers = await _setup(
        database, first_response_minutes=60, resolution_minutes=240
    )
    async with database.session() as session:
        body = CalendarUpdate.model_validate({"weekly_hours": OFFICE, "holidays": ["2026-12-07"]})
        await calendars.replace(session, workspace_id, body)
    conversation_id = await _open(client, headers)
    await _run_jobs(database)
    read = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)).json()
    # 30 minutes on Friday; Monday the 7th is a holiday; the rest on Tuesday.
    assert (read["first_response_due_at"], read["resolution_due_at"]) == (
        "2026-12-08T09:30:00Z",
        "2026-12-08T12:30:00Z",
    )


async def test_a_warning_then_a_breach_are_recorded_once_and_pushed(
    client: httpx.AsyncClient, database: Database
) -> None:
    clock = FrozenClock(START)
    workspace_id, headers = await _setup(
        database, first_response_minutes=60, warn_before_minutes=15
    )
    conversation_id = await _open(client, headers)
    await _run_jobs(database)
    due = START + timedelta(minutes=60)
    async with get_hub().open(workspace_id, "conversations") as subscription:
        await _check(database, clock, START + timedelta(minutes=44))
        assert await _events(database, conversation_id) == []
        await _check(database, clock, START + timedelta(minutes=45))
        assert await _events(database, conversation_id) == [("first_response", "warning", due)]
        for minutes in (61, 62):
            await _check(database, clock, START + timedelta(minutes=minutes))
        pushed = [subscription.queue.get_nowait() for _ in range(subscription.queue.qsize())]
    assert [(m["type"], m["target"]) for m in pushed] == [
        ("conversation.sla_warning", "first_response"),
        ("conversation.sla_breached", "first_response"),
    ]
    clock.now = START + timedelta(minutes=70)
    await _say(client, headers, conversation_id, "reply")  # late: judged again, not twice
    await _run_jobs(database)
    assert await _events(database, conversation_id) == [
        ("first_response", "warning", due),
        ("first_response", "breach", due),
    ]


async def test_a_late_reply_between_checks_is_a_breach_and_an_early_one_is_not(
    client: httpx.AsyncClient, database: Database
) -> None:
    clock = FrozenClock(START)
    _, headers = await _setup(database, first_response_minutes=30, next_response_minutes=20)
    conversation_id = await _open(client, headers)
    clock.now = START + timedelta(minutes=10)
    await _say(client, headers, conversation_id, "reply")  # in time
    clock.now = START + timedelta(minutes=20)
    await _say(client, headers, conversation_id, "customer")  # waits from 10:20
    await _run_jobs(database)
    read = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)).json()
    assert (read["first_response_due_at"], read["next_response_due_at"]) == (
        None,
        "2026-12-02T10:40:00Z",
    )
    clock.now = START + timedelta(minutes=45)
    await _say(client, headers, conversation_id, "reply")  # 5 minutes late, no check ran
    await _run_jobs(database)
    assert await _events(database, conversation_id) == [
        ("next_response", "breach", START + timedelta(minutes=40))
    ]


async def _normal_and_urgent(database: Database) -> tuple[str, str, dict[str, str]]:
    """Create a workspace with an urgent policy (15 minutes, tried first) and one for the rest
    (240 minutes); return their ids and an API key's headers."""
    workspace = await make_workspace(database)
    normal = await make_sla_policy(database, workspace.id, position=2, first_response_minutes=240)
    urgent = await make_sla_policy(
        database, workspace.id, position=1, priorities=["urgent"], first_response_minutes=15
    )
    return normal, urgent, bearer(await make_api_key(database, workspace))


async def test_the_first_matching_policy_by_position_applies(
    client: httpx.AsyncClient, database: Database
) -> None:
    FrozenClock(START)
    _, urgent, headers = await _normal_and_urgent(database)
    conversation_id = await _open(client, headers, priority="urgent")
    await _run_jobs(database)
    read = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)).json()
    assert (read["sla_policy_id"], read["first_response_due_at"]) == (
        urgent,
        "2026-12-02T10:15:00Z",
    )


async def test_a_priority_change_applies_the_policy_for_the_new_priority(
    client: httpx.AsyncClient, database: Database
) -> None:
    # Policies match on priority: raising it must move the deadlines at once, not at the
    # conversation's next message (before, nothing recomputed them until then).
    FrozenClock(START)
    normal, urgent, headers = await _normal_and_urgent(database)
    conversation_id = await _open(client, headers)
    await _run_jobs(database)
    url = f"/api/v1/conversations/{conversation_id}"
    read = (await client.get(url, headers=headers)).json()
    assert (read["sla_policy_id"], read["first_response_due_at"]) == (
        normal,
        "2026-12-02T14:00:00Z",
    )
    response = await client.patch(url, json={"priority": "urgent"}, headers=headers)
    assert response.status_code == 200, response.text
    await _run_jobs(database)
    read = (await client.get(url, headers=headers)).json()
    assert (read["sla_policy_id"], read["first_response_due_at"]) == (
        urgent,
        "2026-12-02T10:15:00Z",
    )


async def test_only_messages_that_move_a_wait_queue_a_refresh(
    client: httpx.AsyncClient, database: Database
) -> None:
    # A customer's message starts a wait and an agent's public reply ends one; a private note
    # changes nothing a deadline reads, so it queues no refresh.
    FrozenClock(START)
    workspace_id, headers = await _setup(database, first_response_minutes=60)
    conversation_id = await _open(client, headers)

    async def refreshes() -> int:
        async with database.session() as session:
            jobs = await session.execute(select(Job).where(Job.workspace_id == workspace_id))
            return sum(job.name == "support.track_sla" for job in jobs.scalars())

    counted = [await refreshes()]
    for kind in ("note", "reply", "customer"):
        await _say(client, headers, conversation_id, kind)
        counted.append(await refreshes())
    assert [after - before for before, after in itertools.pairwise(counted)] == [0, 1, 1]


async def _refreshes(database: Database, workspace_id: str) -> int:
    async with database.session() as session:
        jobs = await session.execute(select(Job).where(Job.workspace_id == workspace_id))
        return sum(job.name == "support.track_sla" for job in jobs.scalars())


async def test_tracking_is_queued_only_where_an_sla_may_apply(
    client: httpx.AsyncClient, database: Database
) -> None:
    FrozenClock(START)
    workspace = await make_workspace(database)
    headers = bearer(await make_api_key(database, workspace))
    conversation_id = await _open(client, headers)
    await _say(client, headers, conversation_id, "customer")
    assert await _refreshes(database, workspace.id) == 0  # no policy, nothing showing one
    policy_id = await make_sla_policy(database, workspace.id, first_response_minutes=60)
    await _say(client, headers, conversation_id, "customer")
    assert await _refreshes(database, workspace.id) == 1
    await _run_jobs(database)
    read = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)).json()
    assert read["sla_policy_id"] == policy_id
    deleted = await client.delete(f"/api/v1/sla-policies/{policy_id}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    # No policy now, but the conversation still shows the deleted one's deadline: its next
    # change is tracked, and clears it; after that nothing is queued any more.
    await _say(client, headers, conversation_id, "customer")
    assert await _refreshes(database, workspace.id) == 2
    await _run_jobs(database)
    read = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)).json()
    assert (read["sla_policy_id"], read["first_response_due_at"]) == (None, None)
    await _say(client, headers, conversation_id, "customer")
    assert await _refreshes(database, workspace.id) == 2


async def test_a_merge_gives_the_survivor_the_wait_it_took_over(
    client: httpx.AsyncClient, database: Database
) -> None:
    # The survivor's customer was answered; the merged conversation's customer still waits.
    # The merge hands that wait to the survivor, whose next-response deadline runs from it.
    clock = FrozenClock(START)
    _, headers = await _setup(database, first_response_minutes=60, next_response_minutes=30)
    survivor = await _open(client, headers)
    await _say(client, headers, survivor, "reply")
    clock.now = START + timedelta(minutes=5)
    merged = await _open(client, headers)
    await _run_jobs(database)
    clock.now = START + timedelta(minutes=10)
    done = await client.post(
        f"/api/v1/conversations/{merged}/merge-into/{survivor}", headers=headers
    )
    assert done.status_code == 200, done.text
    await _run_jobs(database)
    read = (await client.get(f"/api/v1/conversations/{survivor}", headers=headers)).json()
    assert read["next_response_due_at"] == "2026-12-02T10:35:00Z"


async def test_sla_events_are_listed_for_the_conversation(
    client: httpx.AsyncClient, database: Database
) -> None:
    clock = FrozenClock(START)
    _, headers = await _setup(database, first_response_minutes=5, warn_before_minutes=0)
    conversation_id = await _open(client, headers)
    await _run_jobs(database)
    await _check(database, clock, START + timedelta(minutes=6))
    response = await client.get(
        f"/api/v1/conversations/{conversation_id}/sla-events", headers=headers
    )
    assert [(e["target"], e["kind"], e["due_at"]) for e in response.json()] == [
        ("first_response", "breach", "2026-12-02T10:05:00Z")
    ]
