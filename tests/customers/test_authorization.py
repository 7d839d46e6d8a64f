"""Who may call each customers/events endpoint: anonymous, wrong scope, other workspace."""

from __future__ import annotations

import httpx
import pytest

from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from tests.fixtures.authorization import Case, call_case, case_name
from tests.fixtures.customers import Shop, make_merge, make_shop
from tests.fixtures.events import identify, track
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in

CASES = [
    Case("GET", "/api/v1/customers", Scope.customers_read),
    Case("GET", "/api/v1/customers/{customer}", Scope.customers_read),
    Case("GET", "/api/v1/customers/{customer}/consent", Scope.customers_read),
    Case(
        "POST",
        "/api/v1/customers/{customer}/consent",
        Scope.customers_write,
        json={"purpose": "analytics", "granted": True},
    ),
    Case("GET", "/api/v1/customers/{customer}/merges", Scope.customers_read),
    Case("GET", "/api/v1/customers/{customer}/timeline", Scope.customers_read),
    Case("GET", "/api/v1/customers/{customer}/orders", Scope.customers_read),
    Case("GET", "/api/v1/orders/o-1", Scope.customers_read),
    Case("GET", "/api/v1/events/counts", Scope.events_read),
    Case(
        "POST",
        "/api/v1/customer-merges",
        Scope.customers_merge,
        ok=201,
        json={"winner_id": "{customer}", "loser_id": "{other}"},
    ),
    Case("POST", "/api/v1/customer-merges/{merge}/undo", Scope.customers_merge),
]


async def _setup(client: httpx.AsyncClient, database: Database) -> tuple[Shop, dict[str, str]]:
    shop = await make_shop(client, database)
    await shop.send(
        identify(userId="u-1"),
        track("Order Completed", userId="u-1", properties={"order_id": "o-1"}),
        identify(userId="u-2"),
    )
    merge = await make_merge(database, shop.workspace.id)
    return shop, {
        "customer": (await shop.profile("u-1")).id,
        "other": (await shop.profile("u-2")).id,
        "merge": merge,
    }


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_anonymous_is_401(client: httpx.AsyncClient, database: Database, case: Case) -> None:
    _, ids = await _setup(client, database)
    assert (await call_case(client, case, ids, {})).status_code == 401


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_wrong_scope_is_403(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    shop, ids = await _setup(client, database)
    secret = await make_api_key(database, shop.workspace, [s for s in Scope if s != case.scope])
    assert (await call_case(client, case, ids, bearer(secret))).status_code == 403


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_right_scope_succeeds(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    shop, ids = await _setup(client, database)
    secret = await make_api_key(database, shop.workspace, [case.scope])
    response = await call_case(client, case, ids, bearer(secret))
    assert response.status_code == case.ok, response.text


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if "{" in c.path or c.json or "orders/" in c.path],
    ids=case_name,
)
async def test_other_workspace_sees_nothing(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    _, ids = await _setup(client, database)
    stranger = await make_api_key(database, await make_workspace(database))
    assert (await call_case(client, case, ids, bearer(stranger))).status_code == 404


async def test_other_workspace_lists_and_counts_are_empty(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _setup(client, database)
    stranger = bearer(await make_api_key(database, await make_workspace(database)))
    assert (await client.get("/api/v1/customers", headers=stranger)).json() == []
    assert set((await client.get("/api/v1/events/counts", headers=stranger)).json().values()) == {0}


async def test_agent_reads_but_may_not_merge_and_supervisor_may_not_either(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop, ids = await _setup(client, database)
    merge = {"winner_id": ids["customer"], "loser_id": ids["other"]}
    for role in (Role.agent, Role.supervisor):
        signed_in = await sign_in(database, await make_staff(database, shop.workspace, role))
        headers = session_headers(signed_in.token)
        assert (
            await client.get(f"/api/v1/customers/{ids['customer']}", headers=headers)
        ).status_code == 200
        refused = await client.post("/api/v1/customer-merges", json=merge, headers=headers)
        assert refused.json() == {
            "error": "MissingScope",
            "detail": "This needs the scope(s): customers:merge.",
        }
    owner = await sign_in(database, await make_staff(database, shop.workspace, Role.owner))
    done = await client.post(
        "/api/v1/customer-merges", json=merge, headers=session_headers(owner.token)
    )
    assert done.status_code == 201


async def test_secret_key_without_events_write_cannot_ingest(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop, _ = await _setup(client, database)
    secret = await make_api_key(database, shop.workspace, [Scope.customers_read])
    response = await client.post("/v1/batch", json={"batch": [track("A")]}, headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["detail"] == "This secret key lacks the events:write scope."
