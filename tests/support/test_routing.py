"""Routing: round robin and least loaded within capacity, skills and languages, business
hours and the unassigned queue, unassignment, two routings at once, snoozed conversations
waking up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from rapport.core.db import Database
from rapport.core.jobs import JobStatus, enqueue
from rapport.identity.models import Workspace
from rapport.support.enums import AgentAvailability, RoutingMode
from rapport.support.models import Activity, Conversation
from rapport.support.routing import routing
from rapport.support.routing_calendar import calendars
from rapport.support.routing_schemas import (
    AgentRoutingUpdate,
    CalendarUpdate,
    RoutingSettingsUpdate,
)
from rapport.support.tasks import ROUTE
from rapport.worker.runner import Worker
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.jobs import FrozenClock, all_jobs
from tests.fixtures.routing import make_agent, turn_routing_on
from tests.fixtures.support import make_conversation, make_team

pytestmark = pytest.mark.usefixtures("app")  # the app registers the support jobs

# A Wednesday, 10:00 UTC (the workspaces' time zone).
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


async def _run_jobs(database: Database) -> None:
    await Worker(database, concurrency=1).run_pending()


async def _assignee(database: Database, conversation_id: str) -> str | None:
    async with database.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.assignee_id


async def _open_and_route(database: Database, workspace_id: str, **needs: object) -> str:
    conversation_id = await make_conversation(database, workspace_id)
    if needs:
        async with database.session() as session:
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            conversation.language = needs.get("language")  # type: ignore[assignment]
            conversation.skills = list(needs.get("skills", []))  # type: ignore[call-overload]
            conversation.assignee_id = None
    await _run_jobs(database)
    return conversation_id


async def _workspace_with_routing(
    database: Database, mode: RoutingMode = RoutingMode.round_robin
) -> Workspace:
    workspace = await make_workspace(database)
    await turn_routing_on(database, workspace.id, mode)
    return workspace


async def test_round_robin_takes_turns(database: Database) -> None:
    FrozenClock(WEDNESDAY)
    workspace = await _workspace_with_routing(database)
    first, second = sorted([await make_agent(database, workspace) for _ in range(2)])
    assignees = []
    for minute in range(3):
        FrozenClock(WEDNESDAY + timedelta(minutes=minute))
        conversation_id = await _open_and_route(database, workspace.id)
        assignees.append(await _assignee(database, conversation_id))
    assert assignees == [first, second, first]


async def test_least_loaded_picks_the_agent_holding_fewest(database: Database) -> None:
    FrozenClock(WEDNESDAY)
    workspace = await _workspace_with_routing(database, RoutingMode.least_loaded)
    busy = await make_agent(database, workspace)
    held = await _open_and_route(database, workspace.id)
    assert await _assignee(database, held) == busy
    free = await make_agent(database, workspace)
    assigned = [await _assignee(database, await _open_and_route(database, workspace.id))]
    assigned.append(await _assignee(database, await _open_and_route(database, workspace.id)))
    assert sorted(assigned) == sorted([free, busy]) and assigned[0] == free


async def test_capacity_is_never_exceeded_and_the_rest_wait(database: Database) -> None:
    FrozenClock(WEDNESDAY)
    workspace = await _workspace_with_routing(database, RoutingMode.least_loaded)
    one = await make_agent(database, workspace, capacity=1)
    two = await make_agent(database, workspace, capacity=2)
    assignees = [
        await _assignee(database, await _open_and_route(database, workspace.id)) for _ in range(4)
    ]
    assert sorted(assignees, key=str) == sorted([one, two, two, None], key=str)


async def test_away_agents_get_nothing(database: Database) -> None:
    FrozenClock(WEDNESDAY)
    workspace = await _workspace_with_routing(database)
    await make_agent(database, workspace, online=False)
    assert await _assignee(database, await _open_and_route(database, workspace.id)) is None


async def test_skills_and_language_must_match(database: Database) -> None:
    FrozenClock(WEDNESDAY)
    workspace = await make_workspace(database)
    french_billing = await make_agent(
        database, workspace, skills=("billing",), languages=("fr", "en")
    )
    await make_agent(database, workspace, languages=("en",))
    billing = await make_conversation(database, workspace.id)
    german = await make_conversation(database, workspace.id)
    async with database.session() as session:
        for conversation_id, language in ((billing, "fr"), (german, "de")):
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            conversation.language, conversation.skills = language, ["billing"]
    await turn_routing_on(database, workspace.id)
    async with database.session() as session:
        assert await routing.route(session, workspace.id, billing) == french_billing
        assert await routing.route(session, workspace.id, german) is None


async def test_outside_business_hours_conversations_wait_until_opening(
    database: Database,
) -> None:
    clock = FrozenClock(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))  # a Saturday
    workspace = await _workspace_with_routing(database)
    agent = await make_agent(database, workspace)
    weekdays = {day: [{"start": "09:00", "end": "17:00"}] for day in ("monday", "tuesday")}
    async with database.session() as session:
        await calendars.replace(
            session, workspace.id, CalendarUpdate.model_validate({"weekly_hours": weekdays})
        )
    conversation_id = await _open_and_route(database, workspace.id)
    assert await _assignee(database, conversation_id) is None
    clock.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday, opening time
    async with database.session() as session:
        enqueue(session, "support.route_waiting")
    await _run_jobs(database)
    assert await _assignee(database, conversation_id) == agent


async def test_two_routings_at_once_never_overfill_an_agent(database: Database) -> None:
    FrozenClock(WEDNESDAY)
    workspace = await make_workspace(database)
    agent = await make_agent(database, workspace, capacity=1)
    first = await make_conversation(database, workspace.id)
    second = await make_conversation(database, workspace.id)
    await turn_routing_on(database, workspace.id)

    async def route(conversation_id: str) -> str | None:
        async with database.session() as session:
            return await routing.route(session, workspace.id, conversation_id)

    results = await asyncio.gather(route(first), route(second))
    assert sorted(results, key=str) == sorted([agent, None], key=str)
    assert sorted([await _assignee(database, c) for c in (first, second)], key=str) == sorted(
        [agent, None], key=str
    )


async def test_an_unassigned_conversation_is_routed_again(
    client: httpx.AsyncClient, database: Database
) -> None:
    FrozenClock(WEDNESDAY)
    workspace = await _workspace_with_routing(database)
    agent = await make_agent(database, workspace)
    conversation_id = await _open_and_route(database, workspace.id)
    headers = bearer(await make_api_key(database, workspace))
    response = await client.put(
        f"/api/v1/conversations/{conversation_id}/assignment",
        json={"assignee_id": None},
        headers=headers,
    )
    assert response.json()["assignee_id"] is None
    await _run_jobs(database)
    async with database.session() as session:
        rows = await session.execute(
            select(Activity.actor, Activity.data)
            .where(Activity.conversation_id == conversation_id, Activity.kind == "assignment")
            .order_by(Activity.id)
        )
        history = [(actor.split(":")[0], data["assignee_id"]) for actor, data in rows]
    assert history == [("system", agent), ("api_key", None), ("system", agent)]


async def test_routing_jobs_are_queued_only_where_routing_is_on(database: Database) -> None:
    FrozenClock(WEDNESDAY)
    workspace = await make_workspace(database)
    agent = await make_agent(database, workspace)

    async def route_jobs() -> list[str]:
        return [job.status for job in await all_jobs(database) if job.name == ROUTE]

    waiting = await _open_and_route(database, workspace.id)  # routing off: no job
    assert await route_jobs() == []
    assert await _assignee(database, waiting) is None
    await turn_routing_on(database, workspace.id)
    routed = await _open_and_route(database, workspace.id)
    assert await route_jobs() == [JobStatus.done]
    assert await _assignee(database, routed) == agent
    # The one that waited from before is the minute's sweep's (nothing lost).
    async with database.session() as session:
        enqueue(session, "support.route_waiting")
    await _run_jobs(database)
    assert await _assignee(database, waiting) == agent
    # The sweep queued its routing; the assignments that followed queued none.
    assert await route_jobs() == [JobStatus.done, JobStatus.done]


async def test_the_sweep_routes_past_conversations_nobody_can_take(database: Database) -> None:
    FrozenClock(WEDNESDAY)
    workspace = await make_workspace(database)
    agent = await make_agent(database, workspace, online=False)
    team = await make_team(database, workspace.id)  # the agent is not in it
    unroutable = [await make_conversation(database, workspace.id) for _ in range(60)]
    async with database.session() as session:
        for number, conversation_id in enumerate(unroutable):  # at the front of the queue
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            if number % 2:
                conversation.skills = ["vault"]  # a skill nobody has
            else:
                conversation.team_id = team
    behind = await make_conversation(database, workspace.id)
    await turn_routing_on(database, workspace.id)

    async def sweep() -> list[str]:
        """Run the minute's pass; return the conversations it queued a routing for."""
        before = {job.id for job in await all_jobs(database)}
        async with database.session() as session:
            enqueue(session, "support.route_waiting")
        await _run_jobs(database)
        return [
            job.payload["conversation_id"]
            for job in await all_jobs(database)
            if job.name == ROUTE and job.id not in before
        ]

    assert await sweep() == []  # nobody online
    async with database.session() as session:
        await routing.set_availability(session, workspace.id, agent, AgentAvailability.online)
    assert await sweep() == [behind]  # only the one the agent can take, past the 60
    assert await _assignee(database, behind) == agent
    assert {await _assignee(database, c) for c in unroutable} == {None}
    second = await make_conversation(database, workspace.id)  # routed as it comes: set aside
    async with database.session() as session:
        conversation = await session.get(Conversation, second)
        assert conversation is not None
        conversation.assignee_id = None
        body = AgentRoutingUpdate(capacity=2, skills=[], languages=[])
        await routing.configure_agent(session, workspace.id, agent, body)  # full: 2 held
    assert await sweep() == []
    await turn_routing_on(database, workspace.id)  # on again after a check with it off
    async with database.session() as session:
        await routing.configure(
            session,
            workspace.id,
            RoutingSettingsUpdate(enabled=False, mode=RoutingMode.round_robin),
        )
        body = AgentRoutingUpdate(capacity=5, skills=[], languages=[])
        await routing.configure_agent(session, workspace.id, agent, body)
    assert await sweep() == []  # routing off


async def test_the_sweep_hands_out_conversations_as_routing_would(database: Database) -> None:
    FrozenClock(WEDNESDAY)
    workspace = await make_workspace(database)  # routing off while the scene is set
    busy = await make_agent(database, workspace, capacity=3, skills=("returns",))
    free = await make_agent(database, workspace, capacity=1)
    held = [await make_conversation(database, workspace.id) for _ in range(2)]
    generic = await make_conversation(database, workspace.id)
    returns = await make_conversation(database, workspace.id)
    async with database.session() as session:
        for conversation_id in held:
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            conversation.assignee_id = busy
        conversation = await session.get(Conversation, returns)
        assert conversation is not None
        conversation.skills = ["returns"]
    await turn_routing_on(database, workspace.id, RoutingMode.least_loaded)
    async with database.session() as session:
        enqueue(session, "support.route_waiting")
    await _run_jobs(database)
    # Least loaded: the generic one goes to the free agent, so the busy one's last place
    # is left for the conversation only they can take (handed out first come, first
    # served, the generic one took it, and the other waited for the next minute).
    assert (await _assignee(database, generic), await _assignee(database, returns)) == (free, busy)


async def test_snoozed_conversations_reopen_when_their_time_passes(
    client: httpx.AsyncClient, database: Database, app: FastAPI
) -> None:
    clock = FrozenClock(WEDNESDAY)
    workspace = await make_workspace(database)
    headers = bearer(await make_api_key(database, workspace))
    conversation_id = await make_conversation(database, workspace.id)
    until = (WEDNESDAY + timedelta(minutes=10)).isoformat()
    response = await client.patch(
        f"/api/v1/conversations/{conversation_id}",
        json={"status": "snoozed", "snoozed_until": until},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    statuses = []
    for minutes in (5, 11):
        clock.now = WEDNESDAY + timedelta(minutes=minutes)
        async with database.session() as session:
            enqueue(session, "support.wake_snoozed")
        await _run_jobs(database)
        reply = await client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)
        statuses.append((reply.json()["status"], reply.json()["snoozed_until"]))
    assert statuses == [("snoozed", until.replace("+00:00", "Z")), ("open", None)]
