"""Identity API: the workspace, its staff, API keys, sources and audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Response

from rapport.core.deps import SessionDep, SettingsDep
from rapport.core.pagination import Page
from rapport.errors import error_responses
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
from rapport.identity.errors import (
    AlreadyMember,
    ApiKeyNotFound,
    InvitationNotFound,
    InvitationUnavailable,
    LastOwner,
    StaffNotFound,
)
from rapport.identity.invitations import InvitationView, invitation_link, invitations
from rapport.identity.keys import api_keys, sources
from rapport.identity.models import ApiKey, Source, Workspace
from rapport.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    AuditEventRead,
    InvitationCreate,
    InvitationCreated,
    InvitationRead,
    PrincipalRead,
    RoleUpdate,
    SourceCreate,
    SourceRead,
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


def _invitation_out(view: InvitationView) -> InvitationRead:
    invitation = view.invitation
    return InvitationRead(
        id=invitation.id,
        email=view.email,
        role=invitation.role,
        status=view.status,
        invited_by_type=invitation.invited_by_type,
        invited_by_id=invitation.invited_by_id,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
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
async def read_workspace(principal: WorkspaceRead, session: SessionDep) -> Workspace:
    """Return the caller's workspace."""
    return await workspaces.get(session, principal)


@router.patch("/workspace", response_model=WorkspaceOut)
async def update_workspace(
    body: WorkspaceUpdate, principal: WorkspaceWrite, session: SessionDep
) -> Workspace:
    """Rename the workspace or enforce staff MFA."""
    return await workspaces.update(session, principal, body)


@router.get("/staff", response_model=list[StaffOut])
async def list_staff(principal: StaffRead, session: SessionDep) -> list[StaffOut]:
    """List the workspace's staff and their roles."""
    return [_staff_out(member) for member in await staff.list(session, principal)]


@router.get("/staff/invitations", response_model=list[InvitationRead])
async def list_invitations(principal: StaffRead, session: SessionDep) -> list[InvitationRead]:
    """List invitations nobody has answered yet (pending or expired), newest first."""
    return [_invitation_out(view) for view in await invitations.list_open(session, principal)]


@router.post(
    "/staff/invitations",
    status_code=201,
    response_model=InvitationCreated,
    responses=error_responses(AlreadyMember),
)
async def create_invitation(
    body: InvitationCreate, principal: StaffWrite, session: SessionDep, settings: SettingsDep
) -> InvitationCreated:
    """Invite someone by email; the single-use link to accept is in this response only."""
    issued = await invitations.invite(session, principal, body)
    return InvitationCreated(
        **_invitation_out(issued.view).model_dump(),
        link=invitation_link(settings.base_url, issued.token),
    )


@router.delete(
    "/staff/invitations/{invitation_id}",
    response_model=InvitationRead,
    responses=error_responses(InvitationNotFound, InvitationUnavailable),
)
async def revoke_invitation(
    invitation_id: str, principal: StaffWrite, session: SessionDep
) -> InvitationRead:
    """Withdraw an unanswered invitation; its link stops working at once."""
    return _invitation_out(await invitations.revoke(session, principal, invitation_id))


@router.patch(
    "/staff/{staff_id}",
    response_model=StaffOut,
    responses=error_responses(StaffNotFound, LastOwner),
)
async def update_staff_role(
    staff_id: str, body: RoleUpdate, principal: StaffWrite, session: SessionDep
) -> StaffOut:
    """Change a staff member's role."""
    return _staff_out(await staff.change_role(session, principal, staff_id, body.role))


@router.delete(
    "/staff/{staff_id}", status_code=204, responses=error_responses(StaffNotFound, LastOwner)
)
async def delete_staff(staff_id: str, principal: StaffWrite, session: SessionDep) -> Response:
    """Remove a staff member from the workspace."""
    await staff.remove(session, principal, staff_id)
    return Response(status_code=204)


@router.get("/api-keys", response_model=list[ApiKeyRead])
async def list_api_keys(principal: KeysRead, session: SessionDep) -> Sequence[ApiKey]:
    """List API keys (never their secrets)."""
    return await api_keys.list(session, principal)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
async def create_api_key(
    body: ApiKeyCreate, principal: KeysWrite, session: SessionDep
) -> ApiKeyCreated:
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


@router.delete(
    "/api-keys/{key_id}", response_model=ApiKeyRead, responses=error_responses(ApiKeyNotFound)
)
async def revoke_api_key(key_id: str, principal: KeysWrite, session: SessionDep) -> ApiKey:
    """Revoke an API key."""
    return await api_keys.revoke(session, principal, key_id)


@router.get("/sources", response_model=list[SourceRead])
async def list_sources(principal: SourcesRead, session: SessionDep) -> Sequence[Source]:
    """List event sources and their public write keys."""
    return await sources.list(session, principal)


@router.post("/sources", status_code=201, response_model=SourceRead)
async def create_source(body: SourceCreate, principal: SourcesWrite, session: SessionDep) -> Source:
    """Create an event source with a new write key."""
    return await sources.create(
        session, workspace_id=principal.workspace_id, name=body.name, actor=Actor.of(principal)
    )


@router.get("/audit-events", response_model=Page[AuditEventRead])
async def list_audit_events(
    principal: AuditRead,
    session: SessionDep,
    # seq is a 32-bit INTEGER on PostgreSQL: a larger cursor is a 422, not a 500.
    before_seq: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Page before this seq.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
) -> Page[AuditEventRead]:
    """List the workspace's audit records, newest first."""
    events = await audit.list_for_workspace(session, principal, before_seq=before_seq, limit=limit)
    items = [AuditEventRead.model_validate(event) for event in events]
    next_cursor = str(items[-1].seq) if len(items) == limit else None
    return Page[AuditEventRead](items=items, next_cursor=next_cursor)
