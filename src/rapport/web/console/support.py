"""Console: the agent's inbox (mine, unassigned, my teams, all; by status, priority and
channel) and each conversation's page; fragments of both refresh live on realtime pushes."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import StringConstraints

from rapport.core.deps import SessionDep
from rapport.errors import BadRequest
from rapport.support.enums import Channel, ConversationStatus, Priority
from rapport.support.inbox import INBOX_PAGE, InboxView, inbox
from rapport.support.schemas import (
    ID_PATTERN,
    INTENT_PATTERN,
    ConversationFilters,
    ConversationRead,
    SentimentLabel,
)
from rapport.support.service import conversations
from rapport.support.views import saved_views
from rapport.web.console.routing import AnyIsNone, console_router, is_htmx
from rapport.web.console.support_tools_sla import sla_badges
from rapport.web.console.support_tools_views import conversation_tools, inbox_sidebar
from rapport.web.console.support_views import (
    PRIORITIES,
    SENTIMENTS,
    STATUSES,
    ReadConsole,
    acting_of,
    customer_items,
    render_conversation,
    staff_names,
    state_values,
)
from rapport.web.console.templating import page

router = console_router()
# Text matching the pattern, or no filter (also the empty value of a form's "Any ..." choice).
IntentFilter = Annotated[
    Annotated[str, StringConstraints(pattern=INTENT_PATTERN)] | None, AnyIsNone, Query()
]
ConversationId = Annotated[str, Path(pattern=ID_PATTERN)]
Cursor = Annotated[str | None, Query(max_length=500, pattern=r"^[A-Za-z0-9_=-]*$")]
SavedId = Annotated[str | None, Query(pattern=ID_PATTERN)]
VIEWS = [
    (InboxView.mine, "Mine"),
    (InboxView.unassigned, "Unassigned"),
    (InboxView.team, "My teams"),
    (InboxView.all, "All"),
]
ANY = "any"


@router.get("/inbox", response_class=HTMLResponse)
async def show_inbox(
    ctx: ReadConsole,
    session: SessionDep,
    view: InboxView = InboxView.all,
    status: Annotated[str, Query(max_length=16)] = ConversationStatus.open,
    priority: Annotated[Priority | None, AnyIsNone, Query()] = None,
    channel: Annotated[Channel | None, AnyIsNone, Query()] = None,
    sentiment: Annotated[SentimentLabel | None, AnyIsNone, Query()] = None,
    intent: IntentFilter = None,
    cursor: Cursor = None,
    saved: SavedId = None,
) -> Response:
    """List a view's conversations, newest first; HTMX asks for the list alone (live refresh).
    A saved view (`saved`) brings its own filters."""
    if status != ANY and status not in set(ConversationStatus):
        raise BadRequest("Status must be a known status or any.")
    chosen = None if status == ANY else ConversationStatus(status)
    filters = ConversationFilters(
        status=chosen, priority=priority, channel=channel, sentiment=sentiment, intent=intent
    )
    if saved is not None:
        found = await saved_views.conversations(
            session, ctx.principal.workspace_id, saved, acting_of(ctx), cursor, INBOX_PAGE
        )
    else:
        found = await inbox.page(
            session, ctx.principal.workspace_id, view, filters, acting_of(ctx), cursor
        )
    query = {
        "view": view, "status": status, "priority": priority or "", "channel": channel or "",
        "sentiment": sentiment or "", "intent": intent or "",
    }  # fmt: skip
    query = {"saved": saved} if saved is not None else query
    here = urlencode({name: value for name, value in query.items() if value})
    any_intent = urlencode(
        {name: value for name, value in query.items() if value and name != "intent"}
    )
    values: dict[str, Any] = {
        "conversations": found.items,
        "next_cursor": found.next_cursor,
        "paged": cursor is not None,
        "here": here,
        "refresh": f"/console/inbox?{here}" + (f"&cursor={cursor}" if cursor else ""),
        "customers": await customer_items(session, ctx, [c.customer_id for c in found.items]),
        "staff_names": await staff_names(session, ctx),
        "sla": await sla_badges(session, ctx.principal.workspace_id, found.items),
    }
    if is_htmx(ctx.request):
        return page(ctx, "support/_rows.html", **values)
    return page(
        ctx,
        "support/inbox.html",
        saved=saved,
        **await inbox_sidebar(session, ctx),
        view=view,
        views=VIEWS,
        status=status,
        priority=priority or "",
        channel=channel or "",
        sentiment=sentiment or "",
        intent=intent or "",
        any_intent=any_intent,
        sentiments=SENTIMENTS,
        statuses=STATUSES,
        priorities=PRIORITIES,
        channels=list(Channel),
        **values,
    )


@router.get("/inbox/conversations/{conversation_id}", response_class=HTMLResponse)
async def show_conversation(
    ctx: ReadConsole, session: SessionDep, conversation_id: ConversationId
) -> Response:
    """Show a conversation: its thread, the reply composer, its state and the customer 360."""
    return await render_conversation(ctx, session, conversation_id)


@router.get("/inbox/conversations/{conversation_id}/thread", response_class=HTMLResponse)
async def show_thread(
    ctx: ReadConsole, session: SessionDep, conversation_id: ConversationId
) -> Response:
    """Return a conversation's messages and notes (the fragment a live page refreshes)."""
    workspace_id = ctx.principal.workspace_id
    messages = await inbox.thread(session, workspace_id, conversation_id, acting_of(ctx))
    names = await staff_names(session, ctx)
    return page(ctx, "support/_thread.html", messages=messages, staff_names=names)


@router.get("/inbox/conversations/{conversation_id}/state", response_class=HTMLResponse)
async def show_state(
    ctx: ReadConsole, session: SessionDep, conversation_id: ConversationId
) -> Response:
    """Return a conversation's state panel (status, priority and why, assignment, tags)."""
    found = await conversations.get(
        session, ctx.principal.workspace_id, conversation_id, acting_of(ctx)
    )
    conversation = ConversationRead.model_validate(found)
    values = await state_values(session, ctx)
    values |= await conversation_tools(session, ctx, conversation)
    return page(ctx, "support/_state.html", conversation=conversation, **values)
