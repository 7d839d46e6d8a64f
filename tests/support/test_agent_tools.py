"""Canned responses: shared and personal, searched by shortcut, variables filled from the
conversation, its customer, their last order and the agent; nothing crosses workspaces."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from rapport.support.canned_variables import fill, unknown_variables
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in
from tests.fixtures.support_console import make_desk, make_named_customer, open_conversation

API = "/api/v1/canned-responses"
THANKS = {
    "shortcut": "thanks",
    "title": "Thank you",
    "body": "Hi {{customer.first_name|there}}, order {{ order.last.number }} is on its way. "
    "{{agent.name}}",
}


def _rendered(conversation_id: str, canned_id: str) -> str:
    return f"/api/v1/conversations/{conversation_id}/canned-responses/{canned_id}"


async def _agent(database: Database, role: Role = Role.agent) -> tuple[str, dict[str, str]]:
    desk = await make_desk(database, role)
    headers = session_headers((await sign_in(database, desk.agent)).token)
    return desk.workspace.id, headers


def test_fill_replaces_known_names_and_falls_back() -> None:
    text = "Hi {{ customer.first_name | there }}, {{customer.email}}! {{conversation.id}}"
    assert fill(text, {"customer.first_name": None, "conversation.id": "c1"}) == "Hi there, ! c1"


def test_fill_runs_no_template_code() -> None:
    text = "{{ 7*7 }} {% for x in y %}{{ customer.__class__ }}{{customer.name}}"
    assert (
        fill(text, {"customer.name": "Mia"})
        == "{{ 7*7 }} {% for x in y %}{{ customer.__class__ }}Mia"
    )


def test_unknown_variables_are_named() -> None:
    assert unknown_variables("{{customer.first_name}} {{customer.password}} {{x.y}}") == [
        "customer.password",
        "x.y",
    ]


async def test_a_canned_response_is_filled_for_a_conversation(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    headers = session_headers((await sign_in(database, desk.agent)).token)
    customer_id = await make_named_customer(database, desk.workspace.id, "Mia Berg")
    conversation_id = await open_conversation(database, desk.workspace.id, customer_id=customer_id)
    created = await client.post(API, json=THANKS, headers=headers)
    assert (created.status_code, created.json()["owner_id"]) == (201, desk.agent.user.id)
    rendered = await client.get(_rendered(conversation_id, created.json()["id"]), headers=headers)
    name = desk.agent.user.display_name
    assert rendered.json() == {
        "id": created.json()["id"],
        "text": f"Hi Mia, order 1042 is on its way. {name}",
    }


async def test_missing_values_use_the_fallback(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await _agent(database)
    conversation_id = await open_conversation(database, workspace_id)
    created = (await client.post(API, json=THANKS, headers=headers)).json()
    rendered = await client.get(_rendered(conversation_id, created["id"]), headers=headers)
    assert rendered.json()["text"].startswith("Hi there, order  is on its way.")


async def test_an_unknown_variable_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _agent(database)
    body = {**THANKS, "body": "Your password is {{customer.password}}"}
    response = await client.post(API, json=body, headers=headers)
    assert (response.status_code, response.json()) == (
        422,
        {"error": "UnknownVariable", "detail": "Unknown variable(s): customer.password."},
    )


async def test_search_finds_by_shortcut_prefix_then_title(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _agent(database)
    for shortcut, title in [
        ("refund", "Refund issued"),
        ("ref-old", "Old"),
        ("late", "Refund late"),
    ]:
        body = {"shortcut": shortcut, "title": title, "body": "Text"}
        assert (await client.post(API, json=body, headers=headers)).status_code == 201
    found = (await client.get(API, params={"search": "REF"}, headers=headers)).json()
    assert [item["shortcut"] for item in found] == ["ref-old", "refund", "late"]
    found = (await client.get(API, params={"search": "%"}, headers=headers)).json()
    assert found == []


async def test_a_personal_response_is_its_owners_alone(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    mine = session_headers((await sign_in(database, desk.agent)).token)
    theirs = session_headers((await sign_in(database, desk.colleague)).token)
    created = (await client.post(API, json=THANKS, headers=mine)).json()
    assert (await client.get(API, headers=theirs)).json() == []
    response = await client.get(f"{API}/{created['id']}", headers=theirs)
    assert (response.status_code, response.json()["error"]) == (404, "CannedResponseNotFound")


async def test_sharing_needs_a_supervisor(client: httpx.AsyncClient, database: Database) -> None:
    _, agent = await _agent(database)
    refused = await client.post(API, json={**THANKS, "shared": True}, headers=agent)
    assert (refused.status_code, refused.json()["error"]) == (403, "NotYours")
    _, supervisor = await _agent(database, Role.supervisor)
    shared = await client.post(API, json={**THANKS, "shared": True}, headers=supervisor)
    assert (shared.status_code, shared.json()["owner_id"]) == (201, None)


async def test_a_shortcut_is_taken_once_per_owner(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _agent(database)
    assert (await client.post(API, json=THANKS, headers=headers)).status_code == 201
    again = await client.post(API, json={**THANKS, "shortcut": "THANKS"}, headers=headers)
    assert (again.status_code, again.json()) == (
        409,
        {"error": "NameTaken", "detail": "The shortcut /thanks is already in use."},
    )


async def test_another_workspaces_response_is_404(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, supervisor = await _agent(database, Role.supervisor)
    created = (await client.post(API, json={**THANKS, "shared": True}, headers=supervisor)).json()
    other = await make_workspace(database)
    key = await make_api_key(database, other, [Scope.conversations_read, Scope.conversations_write])
    conversation_id = await open_conversation(database, other.id)
    base = f"{API}/{created['id']}"
    answers = [
        await client.get(base, headers=bearer(key)),
        await client.put(base, json=THANKS, headers=bearer(key)),
        await client.delete(base, headers=bearer(key)),
        await client.get(_rendered(conversation_id, created["id"]), headers=bearer(key)),
    ]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [
        (404, "CannedResponseNotFound")
    ] * 4
    assert (await client.get(API, headers=bearer(key))).json() == []


async def test_a_shared_response_is_changed_and_deleted_by_a_supervisor(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database, Role.supervisor)
    supervisor = session_headers((await sign_in(database, desk.agent)).token)
    agent = session_headers((await sign_in(database, desk.colleague)).token)
    created = (await client.post(API, json={**THANKS, "shared": True}, headers=supervisor)).json()
    base = f"{API}/{created['id']}"
    refused = await client.put(base, json={**THANKS, "title": "Mine now"}, headers=agent)
    assert (refused.status_code, refused.json()["error"]) == (403, "NotYours")
    changed = await client.put(
        base, json={**THANKS, "title": "Thanks!", "shared": True}, headers=supervisor
    )
    assert (changed.status_code, changed.json()["title"]) == (200, "Thanks!")
    assert (await client.delete(base, headers=agent)).status_code == 403
    assert (await client.delete(base, headers=supervisor)).status_code == 204
    assert (await client.get(base, headers=supervisor)).status_code == 404


async def test_anonymous_and_read_only_callers_are_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    await make_staff(database, workspace, Role.agent)
    assert (await client.get(API)).status_code == 401
    key = await make_api_key(database, workspace, [Scope.conversations_read])
    response = await client.post(API, json={**THANKS, "shared": True}, headers=bearer(key))
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")
