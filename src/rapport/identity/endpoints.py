"""Identity API: the workspace, its staff, API keys, sources and audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from rapport.core.deps import SessionDep
from rapport.core.pagination import Page
from rapport.identity.audit import Actor, audit
from rapport.identity.auth import (
    AuditRead,
    CurrentPrincipal,
    KeysRead,
    KeysWrite,
    SourcesRead,
    SourcesWrite,
    StaffRead,
    StaffWrite,
    WorkspaceRead,
    WorkspaceWrite,
)
from rapport.identity.keys import api_keys, sources
from rapport.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    AuditEventRead,
    PrincipalRead,
    RoleUpdate,
    SourceCreate,
    SourceRead,
    StaffCreate,
    StaffCreated,
    WorkspaceUpdate,
)
from rapport.identity.schemas import StaffRead as StaffOut
from rapport.identity.schemas import WorkspaceRead as WorkspaceOut
from rapport.identity.service import StaffMember, staff, workspaces

router = APIRouter(tags=["identity"])


def _staff_out(member: StaffMember) -> StaffOut:
    return StaffOut(
        id=member.user.id,
        email=member.user.email,
        display_name=member.user.display_name,
        role=member.role,
        mfa_enabled=member.user.mfa_enabled,
    )


@router.get("/me", response_model=PrincipalRead)
async def read_me(principal: CurrentPrincipal) -> PrincipalRead:
    """Describe the caller: workspace, kind, role and scopes."""
    return PrincipalRead(
        workspace_id=principal.workspace_id,
        actor_type=principal.actor_type,
        actor_id=principal.actor_id,
        role=principal.role,
        scopes=sorted(principal.scopes),
    )


@router.get("/workspace", response_model=WorkspaceOut)
async def read_workspace(principal: WorkspaceRead, session: SessionDep) -> object:
    """Return the caller's workspace."""
    return await workspaces.get(session, principal)


@router.patch("/workspace", response_model=WorkspaceOut)
async def update_workspace(
    body: WorkspaceUpdate, principal: WorkspaceWrite, session: SessionDep
) -> object:
    """Rename the workspace or enforce staff MFA."""
    return await workspaces.update(session, principal, body)


@router.get("/staff", response_model=list[StaffOut])
async def list_staff(principal: StaffRead, session: SessionDep) -> list[StaffOut]:
    """List the workspace's staff and their roles."""
    return [_staff_out(member) for member in await staff.list(session, principal)]


@router.post("/staff", status_code=201, response_model=StaffCreated)
async def create_staff(body: StaffCreate, principal: StaffWrite, session: SessionDep) -> object:
    """Add a staff member; a new account gets a one-time password shown once."""
    member, password = await staff.invite(session, principal, body)
    return StaffCreated(**_staff_out(member).model_dump(), one_time_password=password)


@router.patch("/staff/{staff_id}", response_model=StaffOut)
async def update_staff_role(
    staff_id: str, body: RoleUpdate, principal: StaffWrite, session: SessionDep
) -> object:
    """Change a staff member's role."""
    return _staff_out(await staff.change_role(session, principal, staff_id, body.role))


@router.delete("/staff/{staff_id}", status_code=204)
async def delete_staff(staff_id: str, principal: StaffWrite, session: SessionDep) -> Response:
    """Remove a staff member from the workspace."""
    await staff.remove(session, principal, staff_id)
    return Response(status_code=204)


@router.get("/api-keys", response_model=list[ApiKeyRead])
async def list_api_keys(principal: KeysRead, session: SessionDep) -> object:
    """List API keys (never their secrets)."""
    return await api_keys.list(session, principal)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
async def create_api_key(body: ApiKeyCreate, principal: KeysWrite, session: SessionDep) -> object:
    """Create a scoped API key; the secret is in this response only."""
    key, secret = await api_keys.create(
        session,
        workspace_id=principal.workspace_id,
        name=body.name,
        scopes=body.scopes,
        actor=Actor.of(principal),
        granter=principal,
    )
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=secret)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyRead)
async def revoke_api_key(key_id: str, principal: KeysWrite, session: SessionDep) -> object:
    """Revoke an API key."""
    return await api_keys.revoke(session, principal, key_id)


@router.get("/sources", response_model=list[SourceRead])
async def list_sources(principal: SourcesRead, session: SessionDep) -> object:
    """List event sources and their public write keys."""
    return await sources.list(session, principal)


@router.post("/sources", status_code=201, response_model=SourceRead)
async def create_source(body: SourceCreate, principal: SourcesWrite, session: SessionDep) -> object:
    """Create an event source with a new write key."""
    return await sources.create(
        session, workspace_id=principal.workspace_id, name=body.name, actor=Actor.of(principal)
    )


@router.get("/audit-events", response_model=Page[AuditEventRead])
async def list_audit_events(
    principal: AuditRead,
    session: SessionDep,
    before_seq: Annotated[
        int | None, Query(ge=1, le=2**62, description="Page before this seq.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
) -> Page[AuditEventRead]:
    """List the workspace's audit records, newest first."""
    events = await audit.list_for_workspace(session, principal, before_seq=before_seq, limit=limit)
    items = [AuditEventRead.model_validate(event) for event in events]
    next_cursor = str(items[-1].seq) if len(items) == limit else None
    return Page[AuditEventRead](items=items, next_cursor=next_cursor)
