"""Who may call the routing, calendar and SLA endpoints: anonymous, wrong scope or role,
other workspace, right scope and role; an agent sets only their own availability."""

from __future__ import annotations

import httpx
import pytest

from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from rapport.identity.models import Workspace
from tests.fixtures.authorization import Case, call_case, case_name
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.routing import make_sla_policy
from tests.fixtures.sessions import session_headers, sign_in
from tests.fixtures.support import make_conversation
from tests.support.test_authorization import ROLE_FOR

READ, WRITE, ASSIGN = (
    Scope.conversations_read,
    Scope.conversations_write,
    Scope.conversations_assign,
)
POLICY = {"name": "Standard", "first_response_minutes": 60}
HOURS = {"weekly_hours": {"monday": [{"start": "09:00", "end": "17:00"}]}}
CASES = [
    Case("GET", "/api/v1/support-routing", READ),
    Case("PUT", "/api/v1/support-routing", ASSIGN, json={"enabled": True}),
    Case("GET", "/api/v1/support-agents/{staff}/routing", READ),
    Case("PUT", "/api/v1/support-agents/{staff}/routing", ASSIGN, json={"capacity": 3}),
    Case(
        "PUT", "/api/v1/support-agents/{staff}/availability", WRITE, json={"availability": "online"}
    ),
    Case("GET", "/api/v1/support-calendar", READ),
    Case("PUT", "/api/v1/support-calendar", ASSIGN, json=HOURS),
    Case("GET", "/api/v1/sla-policies", READ),
    Case("POST", "/api/v1/sla-policies", ASSIGN, 201, POLICY),
    Case("PUT", "/api/v1/sla-policies/{policy}", ASSIGN, json={**POLICY, "name": "Other"}),
    Case("DELETE", "/api/v1/sla-policies/{policy}", ASSIGN, 204),
    Case("GET", "/api/v1/conversations/{conversation}/sla-events", READ),
]


async def _ids(database: Database, workspace: Workspace) -> dict[str, str]:
    member = await make_staff(database, workspace, Role.agent)
    return {
        "conversation": await make_conversation(database, workspace.id),
        "policy": await make_sla_policy(database, workspace.id),
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
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_other_workspace_is_404_or_its_own(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    ids = await _ids(database, await make_workspace(database))
    stranger = bearer(await make_api_key(database, await make_workspace(database)))
    response = await call_case(client, case, ids, stranger)
    if "{" in case.path:
        assert response.status_code == 404, response.text
    elif case.method == "GET" and case.path.endswith("sla-policies"):
        assert response.json() == []
    else:  # settings of one's own workspace only
        assert response.status_code == case.ok


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_right_scope_succeeds(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    ids = await _ids(database, workspace)
    scopes = [case.scope, ASSIGN] if "availability" in case.path else [case.scope]
    response = await call_case(
        client, case, ids, bearer(await make_api_key(database, workspace, scopes))
    )
    assert response.status_code == case.ok, response.text


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_the_role_that_holds_the_scope_succeeds(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    ids = await _ids(database, workspace)
    account = await make_staff(database, workspace, ROLE_FOR[case.scope])
    if "availability" in case.path:
        ids["staff"] = account.user.id  # an agent sets their own
    headers = session_headers((await sign_in(database, account)).token)
    response = await call_case(client, case, ids, headers)
    assert response.status_code == case.ok, response.text


@pytest.mark.parametrize("case", [c for c in CASES if c.scope == ASSIGN], ids=case_name)
async def test_an_agent_may_not_change_routing_calendars_or_policies(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    ids = await _ids(database, workspace)
    account = await make_staff(database, workspace, Role.agent)
    headers = session_headers((await sign_in(database, account)).token)
    response = await call_case(client, case, ids, headers)
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")


async def test_an_agent_may_not_set_a_colleagues_availability(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    colleague = await make_staff(database, workspace, Role.agent)
    account = await make_staff(database, workspace, Role.agent)
    headers = session_headers((await sign_in(database, account)).token)
    response = await client.put(
        f"/api/v1/support-agents/{colleague.user.id}/availability",
        json={"availability": "online"},
        headers=headers,
    )
    assert response.json() == {
        "error": "MissingScope",
        "detail": "This needs the scope(s): conversations:assign.",
    }
