"""Settings: your profile and password, two-step verification, the workspace, the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Query, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.deps import DatabaseDep, SessionDep
from rapport.errors import RapportError
from rapport.identity.audit import audit
from rapport.identity.enums import Scope
from rapport.identity.mfa import mfa
from rapport.identity.schemas import WorkspaceUpdate, time_zones
from rapport.identity.service import StaffMember, staff, workspaces
from rapport.identity.sessions import sign_ins
from rapport.web.console.audit_view import OTHER_ACTORS, AuditQuery, audit_query, target_names
from rapport.web.console.context import Console, ConsoleContext
from rapport.web.console.routing import (
    ConsoleRedirect,
    FormText,
    console_router,
    on_error,
    see_other,
)
from rapport.web.console.tabs import errors_on, tab_page

router = console_router()
AUDIT_PAGE_SIZE = 50


@router.get("/settings")
async def show_settings(ctx: Console) -> Response:
    """Open the first settings tab."""
    raise ConsoleRedirect("/console/settings/profile")


async def render_profile(
    ctx: ConsoleContext, session: AsyncSession, error: RapportError | None = None
) -> Response:
    """Draw the profile tab: who you are, password, two-step verification."""
    codes_left = await mfa.recovery_codes_left(session, ctx.user) if ctx.user.mfa_enabled else 0
    return tab_page(ctx, "profile", error=error, recovery_codes_left=codes_left)


@router.get("/settings/profile", response_class=HTMLResponse)
async def show_profile(ctx: Console, session: SessionDep) -> Response:
    """Show your profile, password form and two-step verification."""
    return await render_profile(ctx, session)


@router.post("/settings/password")
@on_error(errors_on(render_profile))
async def change_password(
    ctx: Console,
    database: DatabaseDep,
    current_password: FormText = "",
    new_password: FormText = "",
) -> Response:
    """Change your password; every other session ends."""
    await sign_ins.change_password(
        database,
        ctx.user,
        current=current_password,
        new=new_password,
        keep_session_id=ctx.staff_session.id,
        workspace_id=ctx.workspace.id,
    )
    return see_other(ctx.request, "/console/settings/profile?notice=password-changed")


@router.post("/settings/mfa/disable")
@on_error(errors_on(render_profile))
async def disable_mfa(ctx: Console, session: SessionDep, code: FormText = "") -> Response:
    """Turn two-step verification off after one more valid code."""
    await mfa.disable(session, ctx.user, code, workspace_id=ctx.workspace.id)
    return see_other(ctx.request, "/console/settings/profile?notice=mfa-disabled")


async def render_workspace(
    ctx: ConsoleContext, session: AsyncSession, error: RapportError | None = None
) -> Response:
    """Draw the workspace tab: name and security."""
    ctx.require(Scope.workspace_read)
    return tab_page(ctx, "workspace", error=error, time_zones=sorted(time_zones()))


@router.get("/settings/workspace", response_class=HTMLResponse)
async def show_workspace(ctx: Console, session: SessionDep) -> Response:
    """Show the workspace's name and security settings."""
    return await render_workspace(ctx, session)


@router.post("/settings/workspace")
@on_error(errors_on(render_workspace))
async def update_workspace(
    ctx: Console,
    session: SessionDep,
    name: FormText = "",
    mfa_required: Annotated[bool, Form()] = False,
    time_zone: FormText = "",
) -> Response:
    """Rename the workspace, set its time zone or require two-step verification of all its
    staff."""
    ctx.require(Scope.workspace_write)
    body = WorkspaceUpdate(
        name=name.strip(), mfa_required=mfa_required, time_zone=time_zone.strip() or None
    )
    await workspaces.update(session, ctx.principal, body)
    return see_other(ctx.request, "/console/settings/workspace?notice=workspace-saved")


@router.get("/settings/audit", response_class=HTMLResponse)
async def show_audit_log(
    ctx: Console,
    session: SessionDep,
    query: Annotated[AuditQuery, Depends(audit_query)],
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Show the workspace's audit records, newest first, filtered, a page at a time."""
    ctx.require(Scope.audit_read)
    only = query.audit_filter(ctx)
    found = await audit.list_for_workspace(
        session, ctx.principal, before_seq=before, limit=AUDIT_PAGE_SIZE + 1, only=only
    )
    events = found[:AUDIT_PAGE_SIZE]
    names = {member.user.id: member.user.display_name for member in await _members(ctx, session)}
    older = {**query.params(), "before": str(events[-1].seq)} if len(found) > len(events) else None
    return tab_page(
        ctx,
        "audit",
        events=events,
        names=names,
        targets=await target_names(ctx, session, events, names),
        actions=await audit.actions(session, ctx.principal),
        other_actors=OTHER_ACTORS,
        query=query,
        newest=query.params() if before is not None else None,
        older=older,
    )


async def _members(ctx: ConsoleContext, session: AsyncSession) -> list[StaffMember]:
    return await staff.list(session, ctx.principal)
