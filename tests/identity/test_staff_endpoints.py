"""Roles and scopes on /api/v1/staff: who may read, write, grant; one owner always remains."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from rapport.core.db import Database
from rapport.identity.enums import ROLE_SCOPES, Role, Scope
from rapport.identity.models import AuditEvent, Workspace
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in


async def _signed_in_as(
    database: Database, workspace: Workspace, role: Role
) -> tuple[str, dict[str, str]]:
    account = await make_staff(database, workspace, role)
    signed_in = await sign_in(database, account)
    return account.user.id, session_headers(signed_in.token)


def test_agent_role_lacks_staff_scopes() -> None:
    assert {Scope.staff_read, Scope.staff_write} & ROLE_SCOPES[Role.agent] == set()


def test_supervisor_reads_but_does_not_write_staff() -> None:
    scopes = ROLE_SCOPES[Role.supervisor]
    assert (Scope.staff_read in scopes, Scope.staff_write in scopes) == (True, False)


def test_admin_and_owner_hold_every_scope() -> None:
    assert ROLE_SCOPES[Role.admin] == ROLE_SCOPES[Role.owner] == frozenset(Scope)


async def test_anonymous_cannot_list_staff(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/staff")
    assert (response.status_code, response.json()["error"]) == (401, "NotSignedIn")


async def test_signed_in_agent_cannot_list_staff(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _signed_in_as(database, await make_workspace(database), Role.agent)
    response = await client.get("/api/v1/staff", headers=headers)
    assert response.status_code == 403
    assert response.json() == {
        "error": "MissingScope",
        "detail": "This needs the scope(s): staff:read.",
    }


async def test_agent_scoped_key_cannot_list_staff(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    secret = await make_api_key(database, workspace, sorted(ROLE_SCOPES[Role.agent]))
    response = await client.get("/api/v1/staff", headers=bearer(secret))
    assert response.status_code == 403


async def test_signed_in_supervisor_lists_staff(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    supervisor_id, headers = await _signed_in_as(database, workspace, Role.supervisor)
    response = await client.get("/api/v1/staff", headers=headers)
    assert response.status_code == 200
    assert [(m["id"], m["role"]) for m in response.json()] == [(supervisor_id, "supervisor")]


async def test_signed_in_supervisor_cannot_add_staff(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _signed_in_as(database, await make_workspace(database), Role.supervisor)
    response = await client.post(
        "/api/v1/staff/invitations",
        json={"email": "new@example.com", "role": "agent"},
        headers=headers,
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "This needs the scope(s): staff:write."


async def test_session_write_without_csrf_token_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _signed_in_as(database, await make_workspace(database), Role.owner)
    del headers["X-CSRF-Token"]
    response = await client.post(
        "/api/v1/staff/invitations", json={"email": "n@example.com"}, headers=headers
    )
    assert (response.status_code, response.json()["error"]) == (403, "CsrfFailed")


async def test_session_write_with_a_non_ascii_csrf_token_is_refused_not_a_500(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _signed_in_as(database, await make_workspace(database), Role.owner)
    raw_headers = {name: value.encode() for name, value in headers.items()}
    raw_headers["X-CSRF-Token"] = "caf\u00e9".encode("latin-1")
    response = await client.post(
        "/api/v1/staff/invitations", json={"email": "n@example.com"}, headers=raw_headers
    )
    assert (response.status_code, response.json()["error"]) == (403, "CsrfFailed")


async def test_signed_in_admin_cannot_grant_owner(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _signed_in_as(database, await make_workspace(database), Role.admin)
    response = await client.post(
        "/api/v1/staff/invitations",
        json={"email": "boss@example.com", "role": "owner"},
        headers=headers,
    )
    assert response.status_code == 403
    assert response.json()["error"] == "MissingScope"


async def test_signed_in_admin_cannot_promote_to_owner(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    _, headers = await _signed_in_as(database, workspace, Role.admin)
    agent = await make_staff(database, workspace, Role.agent)
    response = await client.patch(
        f"/api/v1/staff/{agent.user.id}", json={"role": "owner"}, headers=headers
    )
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")


async def test_signed_in_admin_cannot_demote_an_owner(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace, Role.owner)
    _, headers = await _signed_in_as(database, workspace, Role.admin)
    response = await client.patch(
        f"/api/v1/staff/{owner.user.id}", json={"role": "agent"}, headers=headers
    )
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")


async def test_admin_cannot_demote_the_owner_by_re_inviting_them(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace, Role.owner)
    _, headers = await _signed_in_as(database, workspace, Role.admin)
    body = {"email": owner.email, "role": "agent"}
    response = await client.post("/api/v1/staff/invitations", json=body, headers=headers)
    assert response.status_code == 409
    assert response.json() == {
        "error": "AlreadyMember",
        "detail": f"{owner.email} is already a member; change their role instead.",
    }
    listed = await client.get("/api/v1/staff", headers=headers)
    assert {(m["email"], m["role"]) for m in listed.json()} >= {(owner.email, "owner")}


async def test_key_cannot_grant_owner(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    response = await client.post(
        "/api/v1/staff/invitations",
        json={"email": "boss@example.com", "role": "owner"},
        headers=bearer(await make_api_key(database, workspace)),
    )
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")


async def test_last_owner_cannot_be_demoted(client: httpx.AsyncClient, database: Database) -> None:
    owner_id, headers = await _signed_in_as(database, await make_workspace(database), Role.owner)
    response = await client.patch(
        f"/api/v1/staff/{owner_id}", json={"role": "admin"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": "LastOwner",
        "detail": "A workspace must keep at least one owner.",
    }


async def test_last_owner_cannot_be_removed(client: httpx.AsyncClient, database: Database) -> None:
    owner_id, headers = await _signed_in_as(database, await make_workspace(database), Role.owner)
    response = await client.delete(f"/api/v1/staff/{owner_id}", headers=headers)
    assert (response.status_code, response.json()["error"]) == (409, "LastOwner")


async def test_owner_can_demote_another_owner(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    _, headers = await _signed_in_as(database, workspace, Role.owner)
    other = await make_staff(database, workspace, Role.owner)
    response = await client.patch(
        f"/api/v1/staff/{other.user.id}", json={"role": "admin"}, headers=headers
    )
    assert (response.status_code, response.json()["role"]) == (200, "admin")


async def test_role_change_is_audited(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    agent = await make_staff(database, workspace, Role.agent)
    await client.patch(
        f"/api/v1/staff/{agent.user.id}",
        json={"role": "supervisor"},
        headers=bearer(await make_api_key(database, workspace)),
    )
    async with database.session() as session:
        row = (
            await session.execute(
                select(AuditEvent).where(AuditEvent.action == "staff.role_changed")
            )
        ).scalar_one()
    assert (row.workspace_id, row.target_id, row.details) == (
        workspace.id,
        agent.user.id,
        {"from": "agent", "to": "supervisor"},
    )


@pytest.mark.parametrize(("role", "status"), [(Role.agent, 403), (Role.admin, 200)])
async def test_audit_log_needs_audit_read(
    client: httpx.AsyncClient, database: Database, role: Role, status: int
) -> None:
    _, headers = await _signed_in_as(database, await make_workspace(database), role)
    response = await client.get("/api/v1/audit-events", headers=headers)
    assert response.status_code == status
