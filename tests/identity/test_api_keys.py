"""API keys: scoped, hashed, revocable."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Scope
from tests.fixtures.identity import bearer, make_api_key, make_workspace


async def test_api_key_authenticates_with_its_scopes(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    secret = await make_api_key(database, workspace, [Scope.workspace_read])
    response = await client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200
    assert response.json()["workspace_id"] == workspace.id
    assert response.json()["scopes"] == ["workspace:read"]


async def test_missing_scope_is_403(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    secret = await make_api_key(database, workspace, [Scope.workspace_read])
    response = await client.get("/api/v1/staff", headers=bearer(secret))
    assert response.status_code == 403
    assert response.json() == {
        "error": "MissingScope",
        "detail": "This needs the scope(s): staff:read.",
    }
