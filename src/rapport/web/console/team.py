"""Settings: the workspace's team (invite, withdraw invitations, change roles, remove)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.deps import SessionDep
from rapport.errors import RapportError
from rapport.identity.enums import ROLE_RANK, Role, Scope
from rapport.identity.invitations import IssuedInvitation, invitation_link, invitations
from rapport.identity.schemas import InvitationCreate
from rapport.identity.service import staff
from rapport.web.console.context import Console, ConsoleContext
from rapport.web.console.routing import FormText, console_router, on_error, see_other
from rapport.web.console.tabs import errors_on, tab_page

router = console_router()


def grantable_roles(ctx: ConsoleContext) -> list[Role]:
    """Return the roles this staff member may give (never above their own)."""
    if not ctx.can(Scope.staff_write) or ctx.principal.role is None:
        return []
    own = ROLE_RANK[ctx.principal.role]
    roles = [role for role in Role if ROLE_RANK[role] <= own]
    return [role for role in roles if role != Role.owner or ctx.principal.role == Role.owner]


def foreign_base_url(request: Request, base_url: str) -> str | None:
    """Return the base URL invitation links use when the browser reached Rapport elsewhere."""
    if urlsplit(base_url).netloc.lower() == request.url.netloc.lower():
        return None
    return base_url


async def render_team(
    ctx: ConsoleContext,
    session: AsyncSession,
    error: RapportError | None = None,
    issued: IssuedInvitation | None = None,
) -> Response:
    """Draw the team tab; right after an invitation, show its link once."""
    ctx.require(Scope.staff_read)
    base_url = ctx.request.app.state.settings.base_url
    members = await staff.list(session, ctx.principal)
    return tab_page(
        ctx,
        "team",
        error=error,
        secret=issued is not None,
        members=members,
        names={member.user.id: member.user.display_name for member in members},
        invitations=await invitations.list_open(session, ctx.principal),
        roles=grantable_roles(ctx),
        issued=issued,
        link=invitation_link(base_url, issued.token) if issued else None,
        foreign_base_url=foreign_base_url(ctx.request, base_url),
        here=f"{ctx.request.url.scheme}://{ctx.request.url.netloc}",
    )


@router.get("/settings/team", response_class=HTMLResponse)
async def show_team(ctx: Console, session: SessionDep) -> Response:
    """List the workspace's staff, their roles and the pending invitations."""
    return await render_team(ctx, session)


@router.post("/settings/team", response_class=HTMLResponse)
@on_error(errors_on(render_team))
async def invite_staff(
    ctx: Console,
    session: SessionDep,
    email: FormText = "",
    role: Annotated[Role, Form()] = Role.agent,
) -> Response:
    """Invite someone by email and show the link to pass on, once."""
    body = InvitationCreate.model_validate({"email": email.strip(), "role": role})
    issued = await invitations.invite(session, ctx.principal, body)
    return await render_team(ctx, session, issued=issued)


@router.post("/settings/team/invitations/{invitation_id}/revoke")
@on_error(errors_on(render_team))
async def revoke_invitation(ctx: Console, session: SessionDep, invitation_id: str) -> Response:
    """Withdraw an invitation; its link stops working at once."""
    await invitations.revoke(session, ctx.principal, invitation_id)
    return see_other(ctx.request, "/console/settings/team?notice=invitation-revoked")


@router.post("/settings/team/{staff_id}/role")
@on_error(errors_on(render_team))
async def change_role(
    ctx: Console, session: SessionDep, staff_id: str, role: Annotated[Role, Form()]
) -> Response:
    """Change a member's role."""
    await staff.change_role(session, ctx.principal, staff_id, role)
    return see_other(ctx.request, "/console/settings/team?notice=role-changed")


@router.post("/settings/team/{staff_id}/remove")
@on_error(errors_on(render_team))
async def remove_staff(ctx: Console, session: SessionDep, staff_id: str) -> Response:
    """Remove a member from the workspace (their account stays)."""
    await staff.remove(session, ctx.principal, staff_id)
    return see_other(ctx.request, "/console/settings/team?notice=staff-removed")
