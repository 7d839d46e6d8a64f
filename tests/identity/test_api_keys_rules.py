"""API keys: hashed at rest, shown once, revocable, never wider than their creator."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
from sqlalchemy import select

from rapport.core.db import Database
from rapport.identity.enums import Scope
from rapport.identity.models import ApiKey, AuditEvent
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.jobs import FrozenClock


async def _create(client: httpx.AsyncClient, secret: str, scopes: list[str]) -> httpx.Response:
    return await client.post(
        "/api/v1/api-keys", json={"name": "integration", "scopes": scopes}, headers=bearer(secret)
    )


async def _row(database: Database, key_id: str) -> ApiKey:
    async with database.session() as session:
        return (await session.execute(select(ApiKey).where(ApiKey.id == key_id))).scalar_one()


async def test_created_key_is_shown_once_and_works(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    created = await _create(client, await make_api_key(database, workspace), ["workspace:read"])
    secret = created.json()["key"]
    assert created.status_code == 201
    assert secret.startswith("rk_")
    assert created.json()["prefix"] == secret[:10]
    me = await client.get("/api/v1/me", headers=bearer(secret))
    assert (me.status_code, me.json()["actor_id"]) == (200, created.json()["id"])


async def test_listing_never_shows_secrets(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    admin = await make_api_key(database, workspace)
    secret = (await _create(client, admin, ["workspace:read"])).json()["key"]
    listing = await client.get("/api/v1/api-keys", headers=bearer(admin))
    assert all("key" not in item for item in listing.json())
    assert secret not in listing.text


async def test_row_holds_only_the_hash(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    created = await _create(client, await make_api_key(database, workspace), ["workspace:read"])
    secret = created.json()["key"]
    row = await _row(database, created.json()["id"])
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(getattr(row, column.key)) for column in ApiKey.__table__.columns]
    assert not any(secret in value for value in stored)


async def test_revoked_key_is_401(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    admin = await make_api_key(database, workspace)
    created = (await _create(client, admin, ["workspace:read"])).json()
    revoked = await client.delete(f"/api/v1/api-keys/{created['id']}", headers=bearer(admin))
    response = await client.get("/api/v1/me", headers=bearer(created["key"]))
    assert revoked.status_code == 200
    assert response.status_code == 401
    assert response.json() == {
        "error": "NotSignedIn",
        "detail": "API key is not valid or was revoked.",
    }


async def test_unknown_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me", headers=bearer("rk_not-a-real-key"))
    assert (response.status_code, response.json()["error"]) == (401, "NotSignedIn")


async def test_key_cannot_grant_scopes_its_creator_lacks(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    creator = await make_api_key(database, workspace, [Scope.keys_write, Scope.workspace_read])
    response = await _create(client, creator, ["workspace:read", "staff:write"])
    assert response.status_code == 403
    assert response.json() == {
        "error": "MissingScope",
        "detail": "A key cannot grant scopes its creator does not hold.",
    }


async def test_key_may_grant_a_subset_of_its_creators_scopes(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    creator = await make_api_key(database, workspace, [Scope.keys_write, Scope.workspace_read])
    response = await _create(client, creator, ["workspace:read"])
    assert (response.status_code, response.json()["scopes"]) == (201, ["workspace:read"])


async def test_use_records_last_used_at(client: httpx.AsyncClient, database: Database) -> None:
    clock = FrozenClock()
    workspace = await make_workspace(database)
    admin = await make_api_key(database, workspace)
    created = (await _create(client, admin, ["workspace:read"])).json()
    assert created["last_used_at"] is None
    clock.advance(timedelta(minutes=5))
    await client.get("/api/v1/me", headers=bearer(created["key"]))
    assert (await _row(database, created["id"])).last_used_at == clock.now


async def test_key_creation_is_audited(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    created = (
        await _create(client, await make_api_key(database, workspace), ["workspace:read"])
    ).json()
    async with database.session() as session:
        rows = await session.execute(
            select(AuditEvent).where(
                AuditEvent.action == "api_key.created", AuditEvent.target_id == created["id"]
            )
        )
        row = rows.scalar_one()
    assert (row.workspace_id, row.actor_type, row.details) == (
        workspace.id,
        "api_key",
        {"scopes": ["workspace:read"]},
    )
