"""What the inbox sidebar shows: saved views with their counts, the form that saves the
current filters, and which colleagues are at the console now."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.identity.enums import Scope
from rapport.identity.service import staff
from rapport.support.auth import acting
from rapport.support.macros import macros
from rapport.support.schemas import ConversationRead
from rapport.support.teams import teams
from rapport.support.views import COUNT_CAP, saved_views
from rapport.support.widget import PRESENCE_WINDOW
from rapport.web.console.context import ConsoleContext
from rapport.web.console.support_tools_sla import sla_badges


async def online_names(session: AsyncSession, ctx: ConsoleContext) -> list[str]:
    """Return the names of the colleagues with the console open (used it in the last few
    minutes; an open page's live connection keeps it so), by name."""
    workspace_id = ctx.principal.workspace_id
    online = await staff.online_ids(session, workspace_id, PRESENCE_WINDOW)
    names = await staff.names(session, workspace_id)
    return sorted(names[staff_id] for staff_id in online if staff_id in names)


async def inbox_sidebar(session: AsyncSession, ctx: ConsoleContext) -> dict[str, Any]:
    """Return what the inbox sidebar names and offers."""
    workspace_id = ctx.principal.workspace_id
    return {
        "saved_views": await saved_views.list(session, workspace_id, acting(ctx.principal)),
        "count_cap": COUNT_CAP,
        "online": await online_names(session, ctx),
        "teams": await teams.list(session, workspace_id),
        "may_share": ctx.can(Scope.conversations_assign),
    }


async def conversation_tools(
    session: AsyncSession, ctx: ConsoleContext, conversation: ConversationRead
) -> dict[str, Any]:
    """Return what a conversation's page offers beside its state: its running SLA deadlines,
    the macros the agent may apply, and whether they may take it."""
    workspace_id = ctx.principal.workspace_id
    writer = ctx.can(Scope.conversations_write)
    found = await macros.list(session, workspace_id, acting(ctx.principal)) if writer else []
    badges = await sla_badges(session, workspace_id, [conversation])
    holder = conversation.assignee_id
    may_take = (
        writer and holder != ctx.user.id and (holder is None or ctx.can(Scope.conversations_assign))
    )
    return {"sla_deadlines": badges.get(conversation.id, []), "macros": found, "may_take": may_take}
