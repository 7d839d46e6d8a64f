"""What the support console shows: who may do what, names for staff and customers, the
customer 360 sidebar, and the conversation page (also redrawn after a failed form)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, get_args

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Database
from rapport.customers.errors import CustomerNotFound
from rapport.customers.listing import listing
from rapport.customers.schemas import CustomerListItem
from rapport.customers.service import customers
from rapport.errors import RapportError
from rapport.events.schemas import OrderRead
from rapport.events.service import events
from rapport.identity.enums import Scope
from rapport.identity.service import staff
from rapport.support.auth import acting
from rapport.support.enums import ConversationStatus, Priority
from rapport.support.inbox import inbox
from rapport.support.schemas import Acting, ConversationRead, SentimentLabel
from rapport.support.service import conversations
from rapport.support.teams import teams
from rapport.web.console.context import ConsoleContext, console_requiring, fresh_context
from rapport.web.console.support_tools_views import conversation_tools
from rapport.web.console.templating import error_page, page

ReadConsole = Annotated[ConsoleContext, console_requiring(Scope.conversations_read)]
WriteConsole = Annotated[ConsoleContext, console_requiring(Scope.conversations_write)]
AssignConsole = Annotated[ConsoleContext, console_requiring(Scope.conversations_assign)]
SIDEBAR_ORDERS = 5
STATUSES = list(ConversationStatus)
SENTIMENTS: list[str] = list(get_args(SentimentLabel))
PRIORITIES = list(Priority)
# Errors that are no fault of the form: shown alone, never with the conversation.
REFUSALS = frozenset({401, 403, 404})


@dataclass(frozen=True)
class Sidebar:
    """The customer 360 beside a conversation: the profile, recent orders, other talks."""

    customer: CustomerListItem | None
    currency: str
    orders: list[OrderRead]
    past: list[ConversationRead]


def acting_of(ctx: ConsoleContext) -> Acting:
    """Name the signed-in staff member as the one who acts (their team limits apply)."""
    return acting(ctx.principal)


def conversation_path(conversation_id: str) -> str:
    """Return the console page of a conversation."""
    return f"/console/inbox/conversations/{conversation_id}"


async def staff_names(session: AsyncSession, ctx: ConsoleContext) -> dict[str, str]:
    """Return the display name of every staff member of the workspace, by id."""
    members = await staff.list(session, ctx.principal)
    return {member.user.id: member.user.display_name for member in members}


def mentioned(body: str, names: dict[str, str]) -> list[str]:
    """Return the staff ids a note @mentions by display name (case does not matter)."""
    found = []
    for staff_id, name in names.items():
        if re.search(rf"@{re.escape(name)}(?![\w])", body, re.IGNORECASE):
            found.append(staff_id)
    return found


async def customer_items(
    session: AsyncSession, ctx: ConsoleContext, customer_ids: list[str | None]
) -> dict[str, CustomerListItem]:
    """Return list items for the customers of some conversations, by the ids they carry
    (a profile merged since is shown as the one it joined); none without customers:read."""
    if not ctx.can(Scope.customers_read):
        return {}
    workspace_id, live = ctx.principal.workspace_id, {}
    for customer_id in dict.fromkeys(i for i in customer_ids if i is not None):
        try:
            live[customer_id] = (await customers.live(session, workspace_id, customer_id)).id
        except CustomerNotFound:
            continue
    items = await listing.found(session, workspace_id, list(dict.fromkeys(live.values())))
    by_id = {item.id: item for item in items}
    return {given: by_id[found] for given, found in live.items() if found in by_id}


async def sidebar(
    session: AsyncSession, ctx: ConsoleContext, conversation: ConversationRead
) -> Sidebar:
    """Gather the customer 360 shown beside a conversation."""
    workspace_id = ctx.principal.workspace_id
    past = await inbox.past(session, workspace_id, conversation, acting_of(ctx))
    items = await customer_items(session, ctx, [conversation.customer_id])
    customer = items.get(conversation.customer_id or "")
    if customer is None:
        return Sidebar(None, "", [], past)
    orders = await events.orders_page(
        session, workspace_id, customer.id, cursor=None, limit=SIDEBAR_ORDERS
    )
    codes = (await events.currencies(session, workspace_id, [customer.id]))[customer.id]
    return Sidebar(customer, codes[0] if len(codes) == 1 else "", orders.items, past)


async def render_conversation(
    ctx: ConsoleContext,
    session: AsyncSession,
    conversation_id: str,
    *,
    error: RapportError | None = None,
) -> HTMLResponse:
    """Render a conversation's page: thread, composer, state and the customer 360."""
    workspace_id, who = ctx.principal.workspace_id, acting_of(ctx)
    found = await conversations.get(session, workspace_id, conversation_id, who)
    conversation = ConversationRead.model_validate(found)
    beside = await sidebar(session, ctx, conversation)
    return page(
        ctx,
        "support/conversation.html",
        status_code=error.status_code if error else 200,
        error=error,
        title=(beside.customer and beside.customer.display_name) or "Unknown customer",
        conversation=conversation,
        messages=await inbox.thread(session, workspace_id, conversation.id, who),
        sidebar=beside,
        **await state_values(session, ctx),
        **await conversation_tools(session, ctx, conversation),
    )


async def state_values(session: AsyncSession, ctx: ConsoleContext) -> dict[str, Any]:
    """Return what the conversation's state panel names and offers."""
    return {
        "staff_names": await staff_names(session, ctx),
        "teams": await teams.list(session, ctx.principal.workspace_id),
        "statuses": STATUSES,
        "priorities": PRIORITIES,
    }


async def conversation_failed(request: Request, error: RapportError) -> Response:
    """Show a failed form's error on the conversation page it came from; a refusal or a
    conversation the caller may not see gets the plain error page."""
    if error.status_code in REFUSALS:
        return error_page(request, error)
    database: Database = request.app.state.database
    conversation_id = str(request.path_params.get("conversation_id", ""))
    async with database.session() as session:
        ctx = await fresh_context(request, session)
        return await render_conversation(ctx, session, conversation_id, error=error)
