"""Macros: every action goes through the same service as by hand (history, metrics,
messages), all or none; team limits and the right to assign apply; taking a conversation."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from rapport.support.service import conversations
from rapport.support.teams import teams
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.sessions import session_headers, sign_in
from tests.fixtures.support import SYSTEM_ACTING
from tests.fixtures.support_console import Desk, make_desk, make_named_customer, open_conversation

CANNED = "/api/v1/canned-responses"
MACROS = "/api/v1/macros"


async def _signed_in(database: Database, role: Role = Role.agent) -> tuple[Desk, dict[str, str]]:
    desk = await make_desk(database, role)
    return desk, session_headers((await sign_in(database, desk.agent)).token)


async def _refund_macro(
    client: httpx.AsyncClient, headers: dict[str, str], *extra: dict[str, object]
) -> str:
    canned = {"shortcut": "refund", "title": "Refund", "body": "Hi {{customer.first_name}}, done."}
    canned_id = (await client.post(CANNED, json=canned, headers=headers)).json()["id"]
    actions = [
        {"type": "reply", "canned_response_id": canned_id},
        {"type": "add_tags", "tags": ["refund", "vip"]},
        {"type": "remove_tags", "tags": ["returns"]},
        {"type": "set_priority", "priority": "high"},
        {"type": "note", "body": "Refunded by macro."},
        {"type": "set_status", "status": "resolved"},
        *extra,
    ]
    created = await client.post(
        MACROS, json={"name": "Refund", "actions": actions}, headers=headers
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_a_macro_applies_each_action_as_by_hand(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, headers = await _signed_in(database)
    customer_id = await make_named_customer(database, desk.workspace.id, "Mia Berg")
    conversation_id = await open_conversation(
        database, desk.workspace.id, customer_id=customer_id, tags=["returns", "late"]
    )
    macro_id = await _refund_macro(client, headers, {"type": "assign", "assignee_id": "me"})
    base = f"/api/v1/conversations/{conversation_id}"
    applied = await client.post(f"{base}/apply-macro/{macro_id}", headers=headers)
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert (body["status"], body["priority"], body["tags"], body["assignee_id"]) == (
        "resolved",
        "high",
        ["late", "refund", "vip"],
        desk.agent.user.id,
    )
    messages = (await client.get(f"{base}/messages", headers=headers)).json()["items"]
    assert [(m["author"], m["private"], m["body"]) for m in messages[1:]] == [
        (f"staff:{desk.agent.user.id}", False, "Hi Mia, done."),
        (f"staff:{desk.agent.user.id}", True, "Refunded by macro."),
    ]
    history = (await client.get(f"{base}/history", headers=headers)).json()
    actor = f"staff:{desk.agent.user.id}"
    assert [(h["kind"], h["actor"]) for h in history[1:]] == [
        ("macro", actor),
        ("tags", actor),
        ("tags", actor),
        ("priority", actor),
        ("status", actor),
        ("assignment", actor),
    ]
    assert history[1]["data"] == {"macro_id": macro_id, "name": "Refund"}


async def test_a_limited_agent_cannot_apply_a_macro_to_another_teams_conversation(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, headers = await _signed_in(database)
    billing = (await client.get("/api/v1/support-teams", headers=headers)).json()
    assert [team["name"] for team in billing] == ["Returns"]
    async with database.session() as session:
        other = await teams.create(session, desk.workspace.id, "Billing")
        await teams.add_member(session, desk.workspace.id, desk.team_id, desk.agent.user.id)
        await teams.limit_agent(session, desk.workspace.id, desk.agent.user.id, True)
    theirs = await open_conversation(database, desk.workspace.id, team_id=other.id)
    macro_id = await _refund_macro(client, headers)
    response = await client.post(
        f"/api/v1/conversations/{theirs}/apply-macro/{macro_id}", headers=headers
    )
    assert (response.status_code, response.json()["error"]) == (404, "ConversationNotFound")
    async with database.session() as session:
        found = await conversations.get(session, desk.workspace.id, theirs, SYSTEM_ACTING)
        assert (found.status, found.priority, found.tags) == ("open", "normal", [])
        history = await conversations.history(session, desk.workspace.id, theirs, SYSTEM_ACTING)
        assert [entry.kind for entry in history] == ["created"]


async def test_a_failing_action_undoes_the_whole_macro(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, headers = await _signed_in(database)
    conversation_id = await open_conversation(database, desk.workspace.id, tags=["returns"])
    macro_id = await _refund_macro(client, headers)
    macro = (await client.get(f"{MACROS}/{macro_id}", headers=headers)).json()
    canned_id = macro["actions"][0]["canned_response_id"]
    assert (await client.delete(f"{CANNED}/{canned_id}", headers=headers)).status_code == 204
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/apply-macro/{macro_id}", headers=headers
    )
    assert (response.status_code, response.json()["error"]) == (404, "CannedResponseNotFound")
    found = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)).json()
    assert (found["status"], found["tags"]) == ("open", ["returns"])


async def test_assigning_others_by_macro_needs_a_supervisor(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, headers = await _signed_in(database)
    conversation_id = await open_conversation(database, desk.workspace.id)
    action = {"type": "assign", "assignee_id": desk.colleague.user.id}
    body = {"name": "To Ana", "actions": [action]}
    macro_id = (await client.post(MACROS, json=body, headers=headers)).json()["id"]
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/apply-macro/{macro_id}", headers=headers
    )
    assert response.json() == {
        "error": "Forbidden",
        "detail": "This macro assigns conversations; only supervisors and up may.",
    }


async def test_a_shared_macro_cannot_send_a_personal_response(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _signed_in(database, Role.supervisor)
    canned = {"shortcut": "mine", "title": "Mine", "body": "Hello"}
    canned_id = (await client.post(CANNED, json=canned, headers=headers)).json()["id"]
    action = {"type": "reply", "canned_response_id": canned_id}
    body = {"name": "Hello", "actions": [action], "shared": True}
    response = await client.post(MACROS, json=body, headers=headers)
    assert (response.status_code, response.json()["error"]) == (422, "InvalidMacro")


async def test_another_workspaces_macro_is_404(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _signed_in(database)
    macro_id = await _refund_macro(client, headers)
    other = await make_workspace(database)
    key = await make_api_key(database, other, [Scope.conversations_read, Scope.conversations_write])
    conversation_id = await open_conversation(database, other.id)
    answers = [
        await client.get(f"{MACROS}/{macro_id}", headers=bearer(key)),
        await client.post(
            f"/api/v1/conversations/{conversation_id}/apply-macro/{macro_id}", headers=bearer(key)
        ),
    ]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [(404, "MacroNotFound")] * 2


async def test_an_agent_takes_an_unassigned_conversation_not_a_colleagues(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, headers = await _signed_in(database)
    free = await open_conversation(database, desk.workspace.id)
    held = await open_conversation(database, desk.workspace.id, assignee_id=desk.colleague.user.id)
    taken = await client.post(f"/api/v1/conversations/{free}/take", headers=headers)
    assert (taken.status_code, taken.json()["assignee_id"]) == (200, desk.agent.user.id)
    refused = await client.post(f"/api/v1/conversations/{held}/take", headers=headers)
    assert refused.json() == {
        "error": "ConversationTaken",
        "detail": "A colleague has this conversation; ask a supervisor.",
    }
    history = (await client.get(f"/api/v1/conversations/{free}/history", headers=headers)).json()
    assert (history[-1]["kind"], history[-1]["data"]) == (
        "assignment",
        {"assignee_id": desk.agent.user.id},
    )
