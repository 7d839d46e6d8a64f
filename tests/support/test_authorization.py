"""Who may call each support endpoint: anonymous, wrong scope or role, other workspace, right
scope and role."""

from __future__ import annotations

import httpx
import pytest

from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from rapport.identity.models import Workspace
from tests.fixtures.authorization import Case, call_case, case_name
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in
from tests.fixtures.support import make_conversation, make_team

READ, WRITE, ASSIGN = (
    Scope.conversations_read,
    Scope.conversations_write,
    Scope.conversations_assign,
)


MESSAGE = {"kind": "customer", "body": "Hello"}
CASES = [
    Case("GET", "/api/v1/conversations", READ),
    Case("POST", "/api/v1/conversations", WRITE, 201, {"message": MESSAGE}),
    Case("GET", "/api/v1/conversations/{conversation}", READ),
    Case("PATCH", "/api/v1/conversations/{conversation}", WRITE, json={"priority": "high"}),
    Case("GET", "/api/v1/conversations/{conversation}/messages", READ),
    Case("POST", "/api/v1/conversations/{conversation}/messages", WRITE, 201, MESSAGE),
    Case("GET", "/api/v1/conversations/{conversation}/history", READ),
    Case(
        "PUT",
        "/api/v1/conversations/{conversation}/assignment",
        ASSIGN,
        json={"team_id": "{team}"},
    ),
    Case("POST", "/api/v1/conversations/{conversation}/merge-into/{other}", WRITE),
    Case("GET", "/api/v1/support-teams", READ),
    Case("POST", "/api/v1/support-teams", ASSIGN, 201, {"name": "Billing"}),
    Case("PUT", "/api/v1/support-teams/{team}/members/{staff}", ASSIGN),
    Case("DELETE", "/api/v1/support-teams/{team}/members/{staff}", ASSIGN),
    Case("GET", "/api/v1/support-agents/{staff}", READ),
    Case("PUT", "/api/v1/support-agents/{staff}", ASSIGN, json={"limited_to_teams": True}),
]
ROLE_FOR = {READ: Role.agent, WRITE: Role.agent, ASSIGN: Role.supervisor}


async def _ids(database: Database, workspace: Workspace) -> dict[str, str]:
    member = await make_staff(database, workspace, Role.agent)
    return {
        "conversation": await make_conversation(database, workspace.id),
        "other": await make_conversation(database, workspace.id, "Again"),
        "team": await make_team(database, workspace.id),
        "staff": member.user.id,
    }


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_anonymous_is_401(client: httpx.AsyncClient, database: Database, case: Case) -> None:
    workspace = await make_workspace(database)
    response = await call_case(client, case, await _ids(database, workspace), {})
    assert (response.status_code, response.json()["error"]) == (401, "NotSignedIn")


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_wrong_scope_is_403(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    ids = await _ids(database, workspace)
    secret = await make_api_key(database, workspace, [s for s in Scope if s != case.scope])
    response = await call_case(client, case, ids, bearer(secret))
    assert response.json() == {
        "error": "MissingScope",
        "detail": f"This needs the scope(s): {case.scope}.",
    }


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_other_workspace_is_404_or_sees_nothing(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    ids = await _ids(database, await make_workspace(database))
    stranger = bearer(await make_api_key(database, await make_workspace(database)))
    response = await call_case(client, case, ids, stranger)
    if "{" in case.path:
        assert response.status_code == 404, response.text
    elif case.method == "GET":
        assert response.json() in ([], {"items": [], "next_cursor": None})
    else:  # creating in one's own workspace only; never reaching the other
        assert response.status_code == case.ok


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_right_scope_succeeds(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    ids = await _ids(database, workspace)
    secret = await make_api_key(database, workspace, [case.scope])
    response = await call_case(client, case, ids, bearer(secret))
    assert response.status_code == case.ok, response.text


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_the_role_that_holds_the_scope_succeeds(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    ids = await _ids(database, workspace)
    account = await make_staff(database, workspace, ROLE_FOR[case.scope])
    headers = session_headers((await sign_in(database, account)).token)
    response = await call_case(client, case, ids, headers)
    assert response.status_code == case.ok, response.text


@pytest.mark.parametrize("case", [c for c in CASES if c.scope == ASSIGN], ids=case_name)
async def test_an_agent_may_not_assign_or_manage_teams(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    ids = await _ids(database, workspace)
    account = await make_staff(database, workspace, Role.agent)
    headers = session_headers((await sign_in(database, account)).token)
    response = await call_case(client, case, ids, headers)
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")
