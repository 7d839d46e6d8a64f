"""GET /api/v1/metrics: who may read it, what each caller sees, the same numbers as the
service, and clear 4xx errors for bad windows and filters."""

from __future__ import annotations

from datetime import date

import httpx

from rapport.analytics.service import metrics
from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from rapport.identity.models import Workspace
from rapport.support.teams import teams
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.metrics import play_desk_day
from tests.fixtures.sessions import session_headers, sign_in

WINDOW = {"from": "2026-03-02", "to": "2026-03-03"}


async def _workspace(database: Database, workspace_id: str) -> Workspace:
    async with database.session() as session:
        found = await session.get(Workspace, workspace_id)
        assert found is not None
        return found


async def test_the_api_returns_the_services_numbers(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, _, _ = await play_desk_day(database)
    key = await make_api_key(database, await _workspace(database, desk.workspace_id))
    response = await client.get("/api/v1/metrics", params=WINDOW, headers=bearer(key))
    async with database.session() as session:
        expected = await metrics.summary(
            session, desk.workspace_id, first_day=date(2026, 3, 2), end_day=date(2026, 3, 3)
        )
    assert response.status_code == 200
    assert response.json() == expected.flat()
    assert (response.json()["first_response_seconds_p50"], response.json()["volume"]) == (600.0, 6)


async def test_series_and_breakdown_over_http(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, _, _ = await play_desk_day(database)
    headers = bearer(await make_api_key(database, await _workspace(database, desk.workspace_id)))
    series = await client.get(
        "/api/v1/metrics/series", params={"from": "2026-03-01", "to": "2026-03-03"}, headers=headers
    )
    assert [(point["day"], point["metrics"]["volume"]) for point in series.json()["points"]] == [
        ("2026-03-01", 0),
        ("2026-03-02", 6),
    ]
    channels = await client.get(
        "/api/v1/metrics/breakdown", params={**WINDOW, "by": "channel"}, headers=headers
    )
    groups = {group["key"]: group["metrics"] for group in channels.json()["groups"]}
    # api: x (2 resolutions) and v; chat: y and z.
    assert {key: value["resolutions"] for key, value in groups.items()} == {"api": 3, "chat": 2}
    assert groups["chat"]["retention_rate"] is None


async def test_anonymous_and_keys_without_the_scope_are_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    assert (await client.get("/api/v1/metrics", params=WINDOW)).status_code == 401
    key = await make_api_key(database, workspace, [Scope.conversations_read])
    refused = await client.get("/api/v1/metrics", params=WINDOW, headers=bearer(key))
    assert (refused.status_code, refused.json()["error"]) == (403, "MissingScope")


async def test_another_workspace_sees_none_of_these_figures(
    client: httpx.AsyncClient, database: Database
) -> None:
    await play_desk_day(database)
    other = await make_api_key(database, await make_workspace(database))
    found = (await client.get("/api/v1/metrics", params=WINDOW, headers=bearer(other))).json()
    assert (found["volume"], found["resolutions"], found["first_response_count"]) == (0, 0, 0)


async def test_an_agent_sees_only_their_own_figures(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    agent = await make_staff(database, workspace, Role.agent)
    headers = session_headers((await sign_in(database, agent)).token)
    own = await client.get("/api/v1/metrics", params=WINDOW, headers=headers)
    assert own.status_code == 200
    other = await client.get(
        "/api/v1/metrics", params={**WINDOW, "agent": "0" * 32}, headers=headers
    )
    assert (other.status_code, other.json()["error"]) == (403, "OtherAgentsFigures")


async def test_agents_figures_are_narrowed_to_them(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, _, _ = await play_desk_day(database)
    workspace = await _workspace(database, desk.workspace_id)
    account = await make_staff(database, workspace, Role.agent)
    headers = session_headers((await sign_in(database, account)).token)
    found = (await client.get("/api/v1/metrics", params=WINDOW, headers=headers)).json()
    # This agent did nothing that day: none of ana's or ben's work shows.
    assert (found["first_response_count"], found["resolutions"], found["volume"]) == (0, 0, 0)


async def test_a_team_limited_supervisor_sees_only_their_teams(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, _, _ = await play_desk_day(database)
    workspace = await _workspace(database, desk.workspace_id)
    supervisor = await make_staff(database, workspace, Role.supervisor)
    async with database.session() as session:
        await teams.limit_agent(session, workspace.id, supervisor.user.id, True)
    headers = session_headers((await sign_in(database, supervisor)).token)
    found = (await client.get("/api/v1/metrics", params=WINDOW, headers=headers)).json()
    # Every conversation of the day is in no team, and the supervisor is in none.
    assert (found["volume"], found["resolutions"], found["handoffs"]) == (0, 0, 0)


async def test_bad_windows_and_filters_are_4xx(
    client: httpx.AsyncClient, database: Database
) -> None:
    headers = bearer(await make_api_key(database, await make_workspace(database)))
    cases = [
        ({"from": "2026-03-03", "to": "2026-03-03"}, 422, "InvalidWindow"),
        ({"from": "0001-01-01", "to": "0001-01-05"}, 422, "InvalidWindow"),
        ({"from": "9999-12-30", "to": "9999-12-31"}, 422, "InvalidWindow"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, 422, "InvalidWindow"),
        ({"from": "2026-13-01", "to": "2026-03-03"}, 422, "ValidationError"),
        ({**WINDOW, "channel": "carrier-pigeon"}, 422, "ValidationError"),
        ({**WINDOW, "inactivity_days": "0"}, 422, "ValidationError"),
        ({"to": "2026-03-03"}, 422, "ValidationError"),
    ]
    for params, status, error in cases:
        response = await client.get("/api/v1/metrics", params=params, headers=headers)
        assert (response.status_code, response.json()["error"]) == (status, error), params
