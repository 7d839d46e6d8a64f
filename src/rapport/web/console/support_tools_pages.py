"""Console: managing agent tools (canned responses and macros on one page, saved views from
the inbox's filters); shared ones by supervisors and up, personal ones by their owner."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Path, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Database
from rapport.core.deps import SessionDep
from rapport.errors import RapportError
from rapport.identity.enums import Scope
from rapport.support.canned import canned_responses
from rapport.support.canned_variables import VARIABLES
from rapport.support.enums import ConversationStatus, Priority
from rapport.support.macros import macros
from rapport.support.schemas import ID_PATTERN
from rapport.support.teams import teams
from rapport.support.tools_schemas import CannedResponseWrite, MacroWrite, SavedViewWrite
from rapport.support.views import saved_views
from rapport.web.console.context import ConsoleContext, fresh_context
from rapport.web.console.routing import FormText, console_router, on_error, see_other
from rapport.web.console.support_views import ReadConsole, WriteConsole, acting_of
from rapport.web.console.templating import page

router = console_router()
TOOLS_PATH = "/console/inbox/tools"
ToolId = Annotated[str, Path(pattern=ID_PATTERN)]
LongText = Annotated[str, Form(max_length=10_000)]
Checkbox = Annotated[bool, Form()]


async def render_tools(
    ctx: ConsoleContext, session: AsyncSession, error: RapportError | None = None
) -> HTMLResponse:
    """Draw the agent tools page: canned responses and macros, with their forms."""
    workspace_id, who = ctx.principal.workspace_id, acting_of(ctx)
    canned = await canned_responses.list(session, workspace_id, who)
    found = await macros.list(session, workspace_id, who)
    may_share = ctx.can(Scope.conversations_assign)
    owners = [(t.id, t.owner_id) for t in canned] + [(m.id, m.owner_id) for m in found]
    writer = ctx.can(Scope.conversations_write)
    changeable = {
        tool_id
        for tool_id, owner_id in owners
        if writer and (owner_id == ctx.user.id if owner_id else may_share)
    }
    return page(
        ctx,
        "support/tools.html",
        status_code=error.status_code if error else 200,
        error=error,
        canned=canned,
        canned_titles={item.id: item.title for item in canned},
        macros=found,
        changeable=changeable,
        teams=await teams.list(session, workspace_id),
        variables=VARIABLES,
        statuses=[s for s in ConversationStatus if s != ConversationStatus.snoozed],
        priorities=list(Priority),
        may_share=may_share,
    )


async def tools_failed(request: Request, error: RapportError) -> Response:
    """Show a failed form's error on the tools page."""
    database: Database = request.app.state.database
    async with database.session() as session:
        return await render_tools(await fresh_context(request, session), session, error)


@router.get("/inbox/tools", response_class=HTMLResponse)
async def show_tools(ctx: ReadConsole, session: SessionDep) -> Response:
    """Show the canned responses and macros you may use, and forms to add more."""
    return await render_tools(ctx, session)


@router.post("/inbox/tools/canned-responses")
@on_error(tools_failed)
async def add_canned_response(
    ctx: WriteConsole,
    session: SessionDep,
    shortcut: FormText,
    title: FormText,
    body: LongText,
    shared: Checkbox = False,
) -> Response:
    """Add a canned response."""
    write = CannedResponseWrite(shortcut=shortcut, title=title, body=body, shared=shared)
    await canned_responses.create(
        session, ctx.principal.workspace_id, write, acting_of(ctx), _may_share(ctx)
    )
    return see_other(ctx.request, TOOLS_PATH)


@router.post("/inbox/tools/canned-responses/{canned_id}/delete")
@on_error(tools_failed)
async def delete_canned_response(
    ctx: WriteConsole, session: SessionDep, canned_id: ToolId
) -> Response:
    """Delete a canned response."""
    await canned_responses.delete(
        session, ctx.principal.workspace_id, canned_id, acting_of(ctx), _may_share(ctx)
    )
    return see_other(ctx.request, TOOLS_PATH)


@router.post("/inbox/tools/macros")
@on_error(tools_failed)
async def add_macro(
    ctx: WriteConsole,
    session: SessionDep,
    name: FormText,
    reply_id: FormText = "",
    note: LongText = "",
    add_tags: FormText = "",
    remove_tags: FormText = "",
    priority: FormText = "",
    status: FormText = "",
    assign_to_me: Checkbox = False,
    team_id: FormText = "",
    shared: Checkbox = False,
) -> Response:
    """Add a macro from the form's fields, applied in the form's order."""
    actions: list[dict[str, Any]] = []
    if reply_id:
        actions.append({"type": "reply", "canned_response_id": reply_id})
    for kind, text in (("add_tags", add_tags), ("remove_tags", remove_tags)):
        if tags := [tag.strip() for tag in text.split(",") if tag.strip()]:
            actions.append({"type": kind, "tags": tags})
    if priority:
        actions.append({"type": "set_priority", "priority": priority})
    if note.strip():
        actions.append({"type": "note", "body": note})
    if status:
        actions.append({"type": "set_status", "status": status})
    assignment = {"assignee_id": "me"} if assign_to_me else {}
    assignment |= {"team_id": team_id} if team_id else {}
    if assignment:
        actions.append({"type": "assign", **assignment})
    write = MacroWrite.model_validate({"name": name, "actions": actions, "shared": shared})
    await macros.create(session, ctx.principal.workspace_id, write, acting_of(ctx), _may_share(ctx))
    return see_other(ctx.request, TOOLS_PATH)


@router.post("/inbox/tools/macros/{macro_id}/delete")
@on_error(tools_failed)
async def delete_macro(ctx: WriteConsole, session: SessionDep, macro_id: ToolId) -> Response:
    """Delete a macro."""
    await macros.delete(
        session, ctx.principal.workspace_id, macro_id, acting_of(ctx), _may_share(ctx)
    )
    return see_other(ctx.request, TOOLS_PATH)


@router.post("/inbox/views")
async def save_view(
    ctx: WriteConsole,
    session: SessionDep,
    name: FormText,
    status: FormText = "",
    priority: FormText = "",
    channel: FormText = "",
    team_id: FormText = "",
    assignee: FormText = "",
    tag: FormText = "",
    sentiment: FormText = "",
    shared: Checkbox = False,
) -> Response:
    """Save the inbox's current filters as a view."""
    given = {"status": status, "priority": priority, "channel": channel, "team_id": team_id}
    given |= {"assignee": assignee, "tag": tag, "sentiment": sentiment}
    filters = {key: value for key, value in given.items() if value and value != "any"}
    write = SavedViewWrite.model_validate({"name": name, "filters": filters, "shared": shared})
    view = await saved_views.create(
        session, ctx.principal.workspace_id, write, acting_of(ctx), _may_share(ctx)
    )
    return see_other(ctx.request, f"/console/inbox?saved={view.id}")


@router.post("/inbox/views/{view_id}/delete")
async def delete_view(ctx: WriteConsole, session: SessionDep, view_id: ToolId) -> Response:
    """Delete a saved view."""
    await saved_views.delete(
        session, ctx.principal.workspace_id, view_id, acting_of(ctx), _may_share(ctx)
    )
    return see_other(ctx.request, "/console/inbox")


def _may_share(ctx: ConsoleContext) -> bool:
    return ctx.can(Scope.conversations_assign)
