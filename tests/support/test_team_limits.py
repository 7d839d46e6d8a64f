"""An agent limited to their teams reads and acts only on their teams' conversations (or
those assigned to them) through the API."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.support.teams import teams
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in
from tests.fixtures.support import make_conversation, make_team


async def _limited_agent(database: Database) -> tuple[str, str, str, dict[str, str]]:
    """Return (workspace, own team's conversation, other team's conversation, headers)."""
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace, Role.agent)
    returns, billing = (
        await make_team(database, workspace.id, "Returns"),
        await make_team(database, workspace.id, "Billing"),
    )
    async with database.session() as session:
        await teams.add_member(session, workspace.id, returns, account.user.id)
        await teams.limit_agent(session, workspace.id, account.user.id, True)
    mine = await make_conversation(database, workspace.id, team_id=returns)
    theirs = await make_conversation(database, workspace.id, team_id=billing)
    headers = session_headers((await sign_in(database, account)).token)
    return workspace.id, mine, theirs, headers


async def test_a_limited_agent_cannot_read_or_act_on_another_teams_conversation(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, _, theirs, headers = await _limited_agent(database)
    base = f"/api/v1/conversations/{theirs}"
    answers = [
        await client.get(base, headers=headers),
        await client.get(f"{base}/messages", headers=headers),
        await client.get(f"{base}/history", headers=headers),
        await client.patch(base, json={"status": "resolved"}, headers=headers),
        await client.post(
            f"{base}/messages", json={"kind": "reply", "body": "Hi"}, headers=headers
        ),
    ]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [
        (404, "ConversationNotFound")
    ] * 5


async def test_a_limited_agent_works_on_their_teams_conversation(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, mine, _, headers = await _limited_agent(database)
    reply = await client.post(
        f"/api/v1/conversations/{mine}/messages",
        json={"kind": "reply", "body": "On its way"},
        headers=headers,
    )
    assert reply.status_code == 201
    assert (await client.get(f"/api/v1/conversations/{mine}", headers=headers)).json()["id"] == mine


async def test_a_limited_agent_lists_only_their_teams_and_their_own_conversations(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, mine, theirs, headers = await _limited_agent(database)
    unrouted = await make_conversation(database, workspace_id)
    listed = (await client.get("/api/v1/conversations", headers=headers)).json()
    assert [item["id"] for item in listed["items"]] == [mine]
    assert theirs != unrouted


async def test_a_limited_agent_cannot_merge_another_teams_conversation_into_theirs(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, mine, theirs, headers = await _limited_agent(database)
    response = await client.post(
        f"/api/v1/conversations/{theirs}/merge-into/{mine}", headers=headers
    )
    assert (response.status_code, response.json()["error"]) == (404, "ConversationNotFound")


async def test_lifting_the_limit_shows_every_conversation(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, mine, theirs, headers = await _limited_agent(database)
    me = (await client.get("/api/v1/conversations", headers=headers)).json()
    assert len(me["items"]) == 1
    async with database.session() as session:
        staff_id = (await teams.list(session, workspace_id))[1].member_ids[0]
        await teams.limit_agent(session, workspace_id, staff_id, False)
    listed = (await client.get("/api/v1/conversations", headers=headers)).json()
    assert [item["id"] for item in listed["items"]] == [theirs, mine]
