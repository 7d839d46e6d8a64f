"""Who may call the survey API: anonymous, wrong scope, other workspace, right scope and role;
an agent reads responses but may not change surveys."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from rapport.identity.models import Workspace
from tests.fixtures.authorization import Case, call_case, case_name
from tests.fixtures.feedback import CSAT_QUESTIONS, make_customer, make_survey
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.mail import smtp_server
from tests.fixtures.sessions import session_headers, sign_in

READ, WRITE, REPORTS = Scope.feedback_read, Scope.feedback_write, Scope.reports_read
NEW = {"name": "After delivery", "kind": "csat", "questions": CSAT_QUESTIONS}
CASES = [
    Case("GET", "/api/v1/surveys", READ),
    Case("POST", "/api/v1/surveys", WRITE, 201, NEW),
    Case("GET", "/api/v1/surveys/{survey}", READ),
    Case("PATCH", "/api/v1/surveys/{survey}", WRITE, json={"active": False}),
    Case("DELETE", "/api/v1/surveys/{survey}", WRITE, 204),
    Case(
        "POST",
        "/api/v1/surveys/{survey}/sends",
        WRITE,
        201,
        {"customer_id": "{customer}"},
    ),
    # Every customer's answers at once (every agent's and team's scores) are a report.
    Case("GET", "/api/v1/survey-responses", REPORTS),
    Case("GET", "/api/v1/survey-responses?customer_id={customer}", READ),
    Case("GET", "/api/v1/survey-settings", READ),
    Case("PUT", "/api/v1/survey-settings", WRITE, json={"throttle_days": 7}),
]
ROLE_FOR = {READ: Role.agent, WRITE: Role.admin, REPORTS: Role.supervisor}


@pytest.fixture(autouse=True)
def _smtp(app: FastAPI) -> Iterator[None]:
    """An SMTP server (after the app configured outbound email), so a survey sent by hand
    can reach its customer by email."""
    with smtp_server():
        yield


async def _ids(database: Database, workspace: Workspace) -> dict[str, str]:
    return {
        "survey": (await make_survey(database, workspace.id)).id,
        "customer": await make_customer(database, workspace.id),
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
async def test_other_workspace_sees_nothing_of_this_one(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    ids = await _ids(database, await make_workspace(database))
    stranger = bearer(await make_api_key(database, await make_workspace(database)))
    response = await call_case(client, case, ids, stranger)
    if "{" in case.path:
        assert response.status_code == 404, response.text
    elif case.method == "GET" and case.path.endswith(("surveys", "survey-responses")):
        assert response.json() in ([], {"items": [], "next_cursor": None})
    else:  # its own workspace's surveys and settings
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


@pytest.mark.parametrize("case", [c for c in CASES if c.scope == WRITE], ids=case_name)
async def test_an_agent_may_not_change_surveys_or_settings(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    ids = await _ids(database, workspace)
    account = await make_staff(database, workspace, Role.agent)
    headers = session_headers((await sign_in(database, account)).token)
    response = await call_case(client, case, ids, headers)
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")


async def test_an_agent_reads_one_customers_answers_but_not_everyones(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    ids = await _ids(database, workspace)
    account = await make_staff(database, workspace, Role.agent)
    headers = session_headers((await sign_in(database, account)).token)
    everyone = await client.get("/api/v1/survey-responses", headers=headers)
    one = await client.get(
        f"/api/v1/survey-responses?customer_id={ids['customer']}", headers=headers
    )
    assert (everyone.status_code, everyone.json()["error"], one.status_code) == (
        403,
        "MissingScope",
        200,
    )
