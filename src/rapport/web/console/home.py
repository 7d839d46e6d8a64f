"""The console home and the workspace switcher."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from rapport.core.clock import utcnow
from rapport.core.deps import SessionDep
from rapport.events.schemas import DayFigures
from rapport.events.service import events
from rapport.identity.enums import Scope
from rapport.identity.keys import api_keys, sources
from rapport.identity.models import Workspace
from rapport.identity.service import staff
from rapport.identity.sessions import sign_ins
from rapport.web.console.context import Console, ConsoleContext, Visitor, mfa_passed
from rapport.web.console.routing import FormText, console_router, safe_next, see_other
from rapport.web.console.templating import page, zone_named

router = console_router()


def start_of_today(workspace: Workspace) -> datetime:
    """Return when today began in the workspace's time zone."""
    local = utcnow().astimezone(zone_named(workspace.time_zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


async def _checklist(ctx: ConsoleContext, session: SessionDep) -> list[tuple[str, str, bool]]:
    """Return the getting-started steps this staff member can act on: (label, link, done)."""
    steps = [("Turn on two-step verification", "/console/settings/profile", ctx.user.mfa_enabled)]
    if ctx.can(Scope.sources_write):
        done = bool(await sources.list(session, ctx.principal))
        steps.append(("Add an event source for your shop", "/console/settings/sources", done))
    if ctx.can(Scope.keys_write):
        done = bool(await api_keys.list(session, ctx.principal))
        steps.append(("Create an API key", "/console/settings/api-keys", done))
    if ctx.can(Scope.staff_write):
        done = len(await staff.list(session, ctx.principal)) > 1
        steps.append(("Invite your team", "/console/settings/team", done))
    return steps


@router.get("", response_class=HTMLResponse)
async def show_home(ctx: Console, session: SessionDep) -> Response:
    """Show the home page: today's figures (to those who may read events) and first steps."""
    figures: DayFigures | None = None
    if ctx.can(Scope.events_read):
        figures = await events.day_figures(session, ctx.workspace.id, start_of_today(ctx.workspace))
    return page(ctx, "home.html", steps=await _checklist(ctx, session), figures=figures)


@router.post("/workspace")
async def switch_workspace(
    request: Request,
    session: SessionDep,
    visit: Visitor,
    slug: FormText = "",
    next: FormText = "",
) -> Response:
    """Move the session to another of the staff member's workspaces."""
    staff_session, _ = mfa_passed(request, visit)
    await sign_ins.switch_workspace(session, staff_session, slug)
    return see_other(request, safe_next(next))
