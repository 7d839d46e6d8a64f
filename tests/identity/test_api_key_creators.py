"""API keys made by staff follow their maker: a key never holds a scope its staff member no
longer has, and dies with their membership or account (issue 7, defect 6)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, update

from rapport.core.db import Database
from rapport.identity.audit import Actor
from rapport.identity.enums import ROLE_SCOPES, ActorType, Role, Scope
from rapport.identity.keys import api_keys
from rapport.identity.models import ApiKey, AuditEvent, Membership, StaffUser, Workspace
from tests.fixtures.events import track, write_key_auth
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in

INVALID_KEY = {"error": "NotSignedIn", "detail": "API key is not valid or was revoked."}
SUPERVISOR_SCOPES = sorted(ROLE_SCOPES[Role.supervisor])


async def _signed_in(database: Database, workspace: Workspace, role: Role) -> tuple[str, Any]:
    account = await make_staff(database, workspace, role)
    return account.user.id, session_headers((await sign_in(database, account)).token)


async def _key(
    client: httpx.AsyncClient, headers: dict[str, str], scopes: list[str] | None = None
) -> dict[str, Any]:
    body = {"name": "made by staff", "scopes": scopes or sorted(Scope)}
    response = await client.post("/api/v1/api-keys", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _admins_key(
    client: httpx.AsyncClient, database: Database, scopes: list[str] | None = None
) -> tuple[Workspace, dict[str, str], str, dict[str, Any]]:
    """Return a workspace, its owner's headers, an admin's id and a key the admin made."""
    workspace = await make_workspace(database)
    _, owner = await _signed_in(database, workspace, Role.owner)
    admin_id, admin = await _signed_in(database, workspace, Role.admin)
    return workspace, owner, admin_id, await _key(client, admin, scopes)


async def _remove(client: httpx.AsyncClient, owner: dict[str, str], staff_id: str) -> None:
    response = await client.delete(f"/api/v1/staff/{staff_id}", headers=owner)
    assert response.status_code == 204, response.text


async def _set_role(
    client: httpx.AsyncClient, owner: dict[str, str], staff_id: str, role: Role
) -> None:
    response = await client.patch(f"/api/v1/staff/{staff_id}", json={"role": role}, headers=owner)
    assert response.status_code == 200, response.text


async def _invite(client: httpx.AsyncClient, secret: str, role: str) -> httpx.Response:
    body = {"email": "newcomer@example.com", "role": role}
    return await client.post("/api/v1/staff/invitations", json=body, headers=bearer(secret))


async def _scopes_of(client: httpx.AsyncClient, secret: str) -> list[str]:
    response = await client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200, response.text
    scopes: list[str] = response.json()["scopes"]
    return scopes


async def _row(database: Database, key_id: str) -> ApiKey:
    async with database.session() as session:
        return (await session.execute(select(ApiKey).where(ApiKey.id == key_id))).scalar_one()


async def _key_audits(database: Database, key_id: str) -> list[tuple[str, str | None, Any]]:
    async with database.session() as session:
        rows = await session.execute(
            select(AuditEvent)
            .where(AuditEvent.target_id == key_id, AuditEvent.action != "api_key.created")
            .order_by(AuditEvent.seq)
        )
        return [(row.action, row.actor_id, row.details) for row in rows.scalars()]


async def test_removed_admins_key_cannot_read_customers(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, owner, admin_id, key = await _admins_key(client, database)
    await _remove(client, owner, admin_id)
    response = await client.get("/api/v1/customers", headers=bearer(key["key"]))
    assert (response.status_code, response.json()) == (401, INVALID_KEY)


async def test_removed_admins_key_cannot_invite_an_admin(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, owner, admin_id, key = await _admins_key(client, database)
    await _remove(client, owner, admin_id)
    response = await _invite(client, key["key"], "admin")
    assert (response.status_code, response.json()) == (401, INVALID_KEY)


async def test_removed_admins_key_cannot_send_events(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, owner, admin_id, key = await _admins_key(client, database)
    await _remove(client, owner, admin_id)
    response = await client.post(
        "/v1/batch", json={"batch": [track("Viewed")]}, headers=write_key_auth(key["key"])
    )
    assert (response.status_code, response.json()) == (
        401,
        {"error": "InvalidWriteKey", "detail": "Unknown, expired or revoked secret key."},
    )


async def test_removal_revokes_the_members_keys_and_audits_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, owner, admin_id, key = await _admins_key(client, database, ["customers:read"])
    owner_id = (await client.get("/api/v1/me", headers=owner)).json()["actor_id"]
    await _remove(client, owner, admin_id)
    assert (await _row(database, key["id"])).revoked_at is not None
    assert await _key_audits(database, key["id"]) == [
        (
            "api_key.revoked",
            owner_id,
            {"reason": "creator_removed", "scopes": [], "dropped": ["customers:read"]},
        )
    ]


async def test_keys_made_by_a_removed_admins_key_stop_working(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, owner, admin_id, key = await _admins_key(client, database)
    grandchild = await _key(client, bearer(key["key"]), ["customers:read"])
    await _remove(client, owner, admin_id)
    response = await client.get("/api/v1/customers", headers=bearer(grandchild["key"]))
    assert (response.status_code, response.json()) == (401, INVALID_KEY)


async def test_removal_leaves_the_members_keys_in_other_workspaces(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, owner, admin_id, _ = await _admins_key(client, database)
    elsewhere = await make_workspace(database)
    async with database.session() as session:
        session.add(Membership(workspace_id=elsewhere.id, staff_id=admin_id, role=Role.admin))
        _, kept = await api_keys.create(
            session,
            workspace_id=elsewhere.id,
            name="elsewhere",
            scopes=[Scope.customers_read],
            actor=Actor(ActorType.staff, admin_id),
        )
    await _remove(client, owner, admin_id)
    assert await _scopes_of(client, kept) == ["customers:read"]


async def test_demoted_admins_key_loses_staff_write(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, owner, admin_id, key = await _admins_key(client, database)
    await _set_role(client, owner, admin_id, Role.supervisor)
    response = await _invite(client, key["key"], "agent")
    assert (response.status_code, response.json()) == (
        403,
        {"error": "MissingScope", "detail": "This needs the scope(s): staff:write."},
    )


async def test_demotion_narrows_the_stored_scopes_and_audits_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, owner, admin_id, key = await _admins_key(client, database)
    owner_id = (await client.get("/api/v1/me", headers=owner)).json()["actor_id"]
    await _set_role(client, owner, admin_id, Role.supervisor)
    row = await _row(database, key["id"])
    assert (row.scopes, row.revoked_at) == (SUPERVISOR_SCOPES, None)
    dropped = sorted(set(Scope) - ROLE_SCOPES[Role.supervisor])
    assert await _key_audits(database, key["id"]) == [
        (
            "api_key.narrowed",
            owner_id,
            {"reason": "creator_role_changed", "scopes": SUPERVISOR_SCOPES, "dropped": dropped},
        )
    ]


async def test_demotion_revokes_a_key_left_without_scopes(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, owner, admin_id, key = await _admins_key(client, database, ["staff:write"])
    await _set_role(client, owner, admin_id, Role.agent)
    response = await client.get("/api/v1/me", headers=bearer(key["key"]))
    assert (response.status_code, response.json()) == (401, INVALID_KEY)
    assert [action for action, _, _ in await _key_audits(database, key["id"])] == [
        "api_key.revoked"
    ]


async def test_key_never_holds_a_scope_its_makers_current_role_lacks(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _, admin_id, key = await _admins_key(client, database)
    async with database.session() as session:  # a role changed without the service
        await session.execute(
            update(Membership)
            .where(Membership.workspace_id == workspace.id, Membership.staff_id == admin_id)
            .values(role=Role.supervisor)
        )
    assert await _scopes_of(client, key["key"]) == SUPERVISOR_SCOPES


async def test_key_of_a_disabled_account_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, _, admin_id, key = await _admins_key(client, database)
    async with database.session() as session:
        await session.execute(
            update(StaffUser).where(StaffUser.id == admin_id).values(is_active=False)
        )
    response = await client.get("/api/v1/customers", headers=bearer(key["key"]))
    assert (response.status_code, response.json()) == (401, INVALID_KEY)


async def test_admins_key_cannot_invite_an_owner(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, _, _, key = await _admins_key(client, database)
    response = await _invite(client, key["key"], "owner")
    assert (response.status_code, response.json()) == (
        403,
        {"error": "MissingScope", "detail": "Only an owner can grant or change the owner role."},
    )


async def test_system_key_is_unaffected_by_staff_changes(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, owner, admin_id, _ = await _admins_key(client, database)
    system_key = await make_api_key(database, workspace)
    await _remove(client, owner, admin_id)
    assert await _scopes_of(client, system_key) == sorted(Scope)
