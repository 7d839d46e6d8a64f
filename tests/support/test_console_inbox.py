"""The console inbox: its views and filters, its live fragment, and team limits."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.support.schemas import ConversationUpdate
from rapport.support.service import conversations
from rapport.support.teams import teams
from tests.fixtures.support import SYSTEM_ACTING, make_team
from tests.fixtures.support_console import (
    conversation_url,
    join_team,
    listed,
    make_desk,
    open_conversation,
)
from tests.web.console import csrf_of, sign_in


async def test_views_list_mine_unassigned_my_teams_and_all(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    workspace_id, me, ana = desk.workspace.id, desk.agent.user.id, desk.colleague.user.id
    await join_team(database, workspace_id, desk.team_id, me)
    mine = await open_conversation(database, workspace_id, assignee_id=me)
    nobody = await open_conversation(database, workspace_id)
    team = await open_conversation(database, workspace_id, team_id=desk.team_id, assignee_id=ana)
    other = await open_conversation(database, workspace_id, assignee_id=ana)
    await sign_in(client, desk.agent.email, desk.agent.password)
    views = {}
    for view in ("mine", "unassigned", "team", "all"):
        views[view] = listed((await client.get("/console/inbox", params={"view": view})).text)
    assert views == {
        "mine": [mine],
        "unassigned": [nobody],
        "team": [team],
        "all": [other, team, nobody, mine],
    }


async def test_filters_by_status_priority_and_channel(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    workspace_id = desk.workspace.id
    calm = await open_conversation(database, workspace_id, "A question", channel="phone")
    urgent = await open_conversation(database, workspace_id, "Fraud on my card, urgent!")
    done = await open_conversation(database, workspace_id, "Thanks")
    async with database.session() as session:
        change = ConversationUpdate(status="resolved")
        await conversations.update(session, workspace_id, done, change, SYSTEM_ACTING)
    await sign_in(client, desk.agent.email, desk.agent.password)

    async def ids(**params: str) -> list[str]:
        return listed((await client.get("/console/inbox", params=params)).text)

    assert await ids() == [urgent, calm]
    assert await ids(status="any") == [done, urgent, calm]
    assert await ids(status="resolved") == [done]
    assert await ids(priority="urgent") == [urgent]
    assert await ids(channel="phone") == [calm]


async def test_rows_show_customer_state_and_assignee(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    await open_conversation(
        database, desk.workspace.id, assignee_id=desk.colleague.user.id, tags=["returns"]
    )
    await sign_in(client, desk.agent.email, desk.agent.password)
    html = (await client.get("/console/inbox")).text
    assert '<span class="pill status status-open" data-status>Open</span>' in html
    assert '<span class="pill priority priority-normal" data-priority>Normal</span>' in html
    assert '<span class="muted">· Ana Lopez</span>' in html
    assert '<span class="pill tag">returns</span>' in html
    assert '<span class="conversation-who">Unknown customer</span>' in html


async def test_htmx_asks_for_the_list_alone(client: httpx.AsyncClient, database: Database) -> None:
    desk = await make_desk(database)
    conversation_id = await open_conversation(database, desk.workspace.id)
    await sign_in(client, desk.agent.email, desk.agent.password)
    response = await client.get("/console/inbox", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<ul class="conversation-list">')
    assert listed(response.text) == [conversation_id]


async def test_an_unknown_status_filter_is_a_400_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    await sign_in(client, desk.agent.email, desk.agent.password)
    response = await client.get("/console/inbox", params={"status": "lost"})
    assert response.status_code == 400
    assert "Status must be a known status or any." in response.text


async def test_the_navigation_opens_the_inbox(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    await sign_in(client, desk.agent.email, desk.agent.password)
    html = (await client.get("/console")).text
    assert 'href="/console/inbox"><svg' in html
    assert 'href="/console/inbox?view=mine">Open your inbox</a>' in html
    assert 'Inbox</span><span class="badge">soon' not in html


async def _limited(client: httpx.AsyncClient, database: Database) -> tuple[str, str, str]:
    """Sign in an agent limited to Returns; return (workspace, own, other team's conversation)."""
    desk = await make_desk(database)
    workspace_id, me = desk.workspace.id, desk.agent.user.id
    billing = await make_team(database, workspace_id, "Billing")
    await join_team(database, workspace_id, desk.team_id, me)
    async with database.session() as session:
        await teams.limit_agent(session, workspace_id, me, True)
    mine = await open_conversation(database, workspace_id, team_id=desk.team_id)
    theirs = await open_conversation(database, workspace_id, "Invoice please", team_id=billing)
    await sign_in(client, desk.agent.email, desk.agent.password)
    return workspace_id, mine, theirs


async def test_a_limited_agent_sees_no_other_teams_conversation_in_any_list(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, mine, _ = await _limited(client, database)
    views = []
    for view in ("mine", "unassigned", "team", "all"):
        page = await client.get("/console/inbox", params={"view": view, "status": "any"})
        views.append(listed(page.text))
    assert views == [[], [mine], [mine], [mine]]


async def test_a_limited_agent_gets_404_on_another_teams_conversation(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, _, theirs = await _limited(client, database)
    base = conversation_url(theirs)
    token = csrf_of((await client.get("/console/inbox")).text)
    answers = [
        await client.get(base),
        await client.get(f"{base}/thread"),
        await client.get(f"{base}/state"),
        await client.post(f"{base}/messages", data={"body": "Hi", "csrf_token": token}),
        await client.post(f"{base}/status", data={"status": "resolved", "csrf_token": token}),
        await client.post(f"{base}/priority", data={"priority": "low", "csrf_token": token}),
        await client.post(f"{base}/tags", data={"tags": "x", "csrf_token": token}),
    ]
    assert [a.status_code for a in answers] == [404] * 7
    assert "No such conversation in this workspace." in answers[0].text
    async with database.session() as session:
        found = await conversations.get(session, workspace_id, theirs, SYSTEM_ACTING)
        assert (found.status, found.priority, found.tags) == ("open", "normal", [])
        page = await conversations.messages(session, workspace_id, theirs, SYSTEM_ACTING)
    assert [message.body for message in page.items] == ["Invoice please"]


async def test_a_supervisor_limited_to_a_team_cannot_assign_another_teams_conversation(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database, Role.supervisor)
    workspace_id, me = desk.workspace.id, desk.agent.user.id
    billing = await make_team(database, workspace_id, "Billing")
    async with database.session() as session:
        await teams.limit_agent(session, workspace_id, me, True)
    theirs = await open_conversation(database, workspace_id, team_id=billing)
    await sign_in(client, desk.agent.email, desk.agent.password)
    token = csrf_of((await client.get("/console/inbox")).text)
    response = await client.post(
        f"{conversation_url(theirs)}/assignment", data={"assignee_id": me, "csrf_token": token}
    )
    assert response.status_code == 404
    async with database.session() as session:
        found = await conversations.get(session, workspace_id, theirs, SYSTEM_ACTING)
        assert found.assignee_id is None
