"""Saved views: filters kept under a name, shared or personal, listed with counts of the
conversations the caller may see; the tag filter on both databases."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.sessions import session_headers, sign_in
from tests.fixtures.support_console import make_desk, open_conversation

VIEWS = "/api/v1/saved-views"


async def test_views_count_what_they_show(client: httpx.AsyncClient, database: Database) -> None:
    desk = await make_desk(database)
    headers = session_headers((await sign_in(database, desk.agent)).token)
    workspace_id, me = desk.workspace.id, desk.agent.user.id
    vip = await open_conversation(database, workspace_id, tags=["vip", "returns"], assignee_id=me)
    await open_conversation(database, workspace_id, tags=["vip"])
    await open_conversation(database, workspace_id, tags=["vipper"], assignee_id=me)
    await open_conversation(database, workspace_id, channel="phone")
    for name, filters in [
        ("My VIPs", {"assignee": "me", "tag": "vip"}),
        ("Waiting", {"assignee": "unassigned", "status": "open"}),
        ("Phone", {"channel": "phone"}),
    ]:
        created = await client.post(VIEWS, json={"name": name, "filters": filters}, headers=headers)
        assert created.status_code == 201, created.text
    listed = (await client.get(VIEWS, headers=headers)).json()
    assert [(view["name"], view["count"], view["more"]) for view in listed] == [
        ("My VIPs", 1, False),
        ("Phone", 1, False),
        ("Waiting", 2, False),
    ]
    page = await client.get(f"{VIEWS}/{listed[0]['id']}/conversations", headers=headers)
    assert [item["id"] for item in page.json()["items"]] == [vip]


async def test_a_personal_view_counts_for_its_owner_and_me_is_whoever_looks(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database, Role.supervisor)
    supervisor = session_headers((await sign_in(database, desk.agent)).token)
    colleague = session_headers((await sign_in(database, desk.colleague)).token)
    await open_conversation(database, desk.workspace.id, assignee_id=desk.colleague.user.id)
    shared = {"name": "Mine", "filters": {"assignee": "me"}, "shared": True}
    assert (await client.post(VIEWS, json=shared, headers=supervisor)).status_code == 201
    personal = {"name": "Urgent", "filters": {"priority": "urgent"}}
    assert (await client.post(VIEWS, json=personal, headers=supervisor)).status_code == 201
    seen = (await client.get(VIEWS, headers=colleague)).json()
    assert [(view["name"], view["count"]) for view in seen] == [("Mine", 1)]
    seen = (await client.get(VIEWS, headers=supervisor)).json()
    assert [(view["name"], view["count"]) for view in seen] == [("Mine", 0), ("Urgent", 0)]


async def test_a_view_of_an_unknown_team_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    headers = session_headers((await sign_in(database, desk.agent)).token)
    body = {"name": "Theirs", "filters": {"team_id": "0" * 32}}
    response = await client.post(VIEWS, json=body, headers=headers)
    assert (response.status_code, response.json()["error"]) == (404, "TeamNotFound")


async def test_another_workspaces_view_is_404(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    headers = session_headers((await sign_in(database, desk.agent)).token)
    view = (await client.post(VIEWS, json={"name": "All", "filters": {}}, headers=headers)).json()
    other = await make_workspace(database)
    key = await make_api_key(database, other, [Scope.conversations_read, Scope.conversations_write])
    answers = [
        await client.get(f"{VIEWS}/{view['id']}/conversations", headers=bearer(key)),
        await client.delete(f"{VIEWS}/{view['id']}", headers=bearer(key)),
    ]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [(404, "SavedViewNotFound")] * 2
