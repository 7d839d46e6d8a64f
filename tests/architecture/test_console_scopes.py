"""Every console route checks a scope before anything else (rule 12), bar an explicit list.

Where the /api/v1 check reads the dependency graph, console pages check their scope in code
(`ctx.require`) or through the service they call, so this check asks each route: a staff
member whose role grants no scope at all must get 403 from it, whatever it was sent.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI, Response

from rapport.core.db import Database
from rapport.identity.enums import ROLE_SCOPES, Role
from rapport.web.console.context import Console
from rapport.web.console.routing import console_router
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.routes import every_route
from tests.web.console import csrf_of, sign_in

# (method, path) pairs that need no scope, each with its reason.
UNSCOPED_CONSOLE_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/console"): "home: each figure and step shows only to the scopes that may see it",
    ("POST", "/console/workspace"): "moves you to another workspace you are a member of",
    ("GET", "/console/settings"): "only redirects to your profile",
    ("GET", "/console/settings/profile"): "your own account",
    ("POST", "/console/settings/password"): "your own account",
    ("POST", "/console/settings/mfa/disable"): "your own account",
    ("GET", "/console/sign-in"): "before sign-in",
    ("POST", "/console/sign-in"): "before sign-in",
    ("GET", "/console/mfa"): "the sign-in's second step",
    ("POST", "/console/mfa"): "the sign-in's second step",
    ("POST", "/console/sign-out"): "ends your own session",
    ("GET", "/console/mfa/setup"): "your own two-step verification",
    ("POST", "/console/mfa/setup"): "your own two-step verification",
    ("POST", "/console/mfa/setup/confirm"): "your own two-step verification",
    ("GET", "/console/invitations/{token}"): "the invitation link is the credential",
    ("POST", "/console/invitations/{token}/account"): "the invitation link is the credential",
    ("POST", "/console/invitations/{token}/accept"): "the invitation link is the credential",
    ("POST", "/console/invitations/{token}/decline"): "the invitation link is the credential",
    ("GET", "/console/surveys/{token}"): "the signed survey link is the credential",
    ("POST", "/console/surveys/{token}"): "the signed survey link is the credential",
}

# Routes that still validate their form before their scope check (a member without the scope
# gets 422, not 403): owed a scope dependency; remove each entry once fixed (a test says when).
OWED: dict[tuple[str, str], int] = {}


def console_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Return every (method, path) under /console."""
    found = {
        (method, route.path)
        for route in every_route(app)
        if isinstance(getattr(route, "path", None), str) and route.path.startswith("/console")
        for method in getattr(route, "methods", None) or ()
    }
    return sorted(found)


async def _unchecked(client: httpx.AsyncClient, app: FastAPI) -> list[tuple[str, str, int]]:
    """Call every scoped console route as a member who holds no scope; list non-403 answers."""
    token = csrf_of((await client.get("/console/settings/profile")).text)
    found = []
    for method, path in console_routes(app):
        if (method, path) in UNSCOPED_CONSOLE_ROUTES:
            continue
        url = re.sub(r"\{[a-z_]+\}", "0" * 32, path)
        response = await client.request(method, url, headers={"X-CSRF-Token": token}, data={})
        if response.status_code != 403:
            found.append((method, path, response.status_code))
    return found


@pytest.fixture
async def scopeless_client(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> httpx.AsyncClient:
    """A client signed in as a member whose role grants no scope at all."""
    monkeypatch.setitem(ROLE_SCOPES, Role.agent, frozenset())
    account = await make_staff(database, await make_workspace(database), Role.agent)
    await sign_in(client, account.email, account.password)
    return client


async def test_every_console_route_refuses_a_member_without_scopes(
    scopeless_client: httpx.AsyncClient, app: FastAPI
) -> None:
    owed = [(method, path, status) for (method, path), status in OWED.items()]
    assert await _unchecked(scopeless_client, app) == sorted(owed)


async def test_the_check_sees_console_routes_without_a_scope(
    scopeless_client: httpx.AsyncClient, app: FastAPI
) -> None:
    router = console_router()

    @router.get("/test-only/open")
    async def _open(ctx: Console) -> Response:
        return Response("open")

    app.include_router(router, prefix="/console")
    owed = [(method, path, status) for (method, path), status in OWED.items()]
    found = await _unchecked(scopeless_client, app)
    assert found == sorted([*owed, ("GET", "/console/test-only/open", 200)])


def test_the_route_list_sees_included_routers(app: FastAPI) -> None:
    assert ("GET", "/console/settings/audit") in console_routes(app)


def test_the_allow_list_names_only_existing_routes(app: FastAPI) -> None:
    assert set(UNSCOPED_CONSOLE_ROUTES) - set(console_routes(app)) == set()
