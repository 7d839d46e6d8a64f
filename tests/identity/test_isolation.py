"""Identity objects of one workspace are invisible to another workspace's callers."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from rapport.core.db import Database
from rapport.identity.enums import Role
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.tenancy import operations_with_ids, probe_other_workspace_ids


async def test_staff_list_shows_only_own_workspace(
    client: httpx.AsyncClient, database: Database
) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    own = await make_staff(database, mine, Role.agent)
    await make_staff(database, theirs, Role.agent)
    response = await client.get("/api/v1/staff", headers=bearer(await make_api_key(database, mine)))
    assert [member["id"] for member in response.json()] == [own.user.id]


async def test_revoking_another_workspaces_key_leaves_it_working(
    client: httpx.AsyncClient, database: Database
) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    their_secret = await make_api_key(database, theirs)
    their_keys = await client.get("/api/v1/api-keys", headers=bearer(their_secret))
    key_id = their_keys.json()[0]["id"]
    mine_secret = await make_api_key(database, mine)
    response = await client.delete(f"/api/v1/api-keys/{key_id}", headers=bearer(mine_secret))
    assert response.status_code == 404
    assert response.json()["error"] == "ApiKeyNotFound"
    assert (await client.get("/api/v1/me", headers=bearer(their_secret))).status_code == 200


async def test_changing_role_in_another_workspace_is_404(
    client: httpx.AsyncClient, database: Database
) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    other = await make_staff(database, theirs, Role.agent)
    response = await client.patch(
        f"/api/v1/staff/{other.user.id}",
        json={"role": "admin"},
        headers=bearer(await make_api_key(database, mine)),
    )
    assert response.status_code == 404
    assert response.json() == {
        "error": "StaffNotFound",
        "detail": "No such staff member in this workspace.",
    }


async def test_audit_log_shows_only_own_workspace(
    client: httpx.AsyncClient, database: Database
) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    await make_staff(database, theirs, Role.agent)
    response = await client.get(
        "/api/v1/audit-events", headers=bearer(await make_api_key(database, mine))
    )
    workspace_targets = {
        item["target_id"] for item in response.json()["items"] if item["target_type"] == "workspace"
    }
    assert workspace_targets == {mine.id}


async def test_identity_routes_refuse_another_workspaces_ids(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    operations = operations_with_ids(app, tags={"identity"})
    probes = await probe_other_workspace_ids(
        app,
        client,
        database,
        headers=bearer(await make_api_key(database, mine)),
        other_workspace_id=theirs.id,
        operations=operations,
        other_headers=bearer(await make_api_key(database, theirs)),
    )
    assert [(probe.method, probe.path, probe.status, probe.error) for probe in probes] == [
        ("DELETE", "/api/v1/staff/invitations/{invitation_id}", 404, "InvitationNotFound"),
        ("PATCH", "/api/v1/staff/{staff_id}", 404, "StaffNotFound"),
        ("DELETE", "/api/v1/staff/{staff_id}", 404, "StaffNotFound"),
        ("DELETE", "/api/v1/api-keys/{key_id}", 404, "ApiKeyNotFound"),
    ]
