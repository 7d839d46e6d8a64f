"""Console: agent tools on a conversation's page: the "/" picker of canned responses,
macros in one click, taking a conversation, and the agent's typing and read marks for the
chat widget."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response
from fastapi.responses import JSONResponse

from rapport.core.deps import SessionDep
from rapport.core.realtime import get_hub
from rapport.identity.enums import Scope
from rapport.support.canned import canned_responses
from rapport.support.macros import macros
from rapport.support.notify import conversation_topic
from rapport.support.schemas import ID_PATTERN
from rapport.support.service import conversations
from rapport.support.taking import take
from rapport.support.widget import widget
from rapport.web.console.routing import console_router, on_error, see_other
from rapport.web.console.support_views import (
    ReadConsole,
    WriteConsole,
    acting_of,
    conversation_failed,
    conversation_path,
)

router = console_router()
ConversationId = Annotated[str, Path(pattern=ID_PATTERN)]
ToolId = Annotated[str, Path(pattern=ID_PATTERN)]
Search = Annotated[str, Query(max_length=50)]


@router.get("/inbox/conversations/{conversation_id}/canned-responses")
async def pick_canned_responses(
    ctx: ReadConsole, session: SessionDep, conversation_id: ConversationId, search: Search = ""
) -> JSONResponse:
    """Return the canned responses matching what follows "/" in the composer."""
    workspace_id, who = ctx.principal.workspace_id, acting_of(ctx)
    await conversations.get(session, workspace_id, conversation_id, who)
    found = await canned_responses.list(session, workspace_id, who, search)
    items = [{"id": c.id, "shortcut": c.shortcut, "title": c.title} for c in found]
    return JSONResponse({"items": items})


@router.get("/inbox/conversations/{conversation_id}/canned-responses/{canned_id}")
async def fill_canned_response(
    ctx: ReadConsole, session: SessionDep, conversation_id: ConversationId, canned_id: ToolId
) -> JSONResponse:
    """Return a canned response's text filled for the conversation (to insert it)."""
    rendered = await canned_responses.render(
        session, ctx.principal.workspace_id, canned_id, conversation_id, acting_of(ctx)
    )
    return JSONResponse({"text": rendered.text})


@router.post("/inbox/conversations/{conversation_id}/macros/{macro_id}")
@on_error(conversation_failed)
async def apply_macro(
    ctx: WriteConsole, session: SessionDep, conversation_id: ConversationId, macro_id: ToolId
) -> Response:
    """Apply a macro to the conversation: each of its actions, as if done by hand."""
    await macros.apply(
        session,
        ctx.principal.workspace_id,
        macro_id,
        conversation_id,
        acting_of(ctx),
        ctx.can(Scope.conversations_assign),
    )
    return see_other(ctx.request, conversation_path(conversation_id))


@router.post("/inbox/conversations/{conversation_id}/take")
@on_error(conversation_failed)
async def take_conversation(
    ctx: WriteConsole, session: SessionDep, conversation_id: ConversationId
) -> Response:
    """Assign the conversation to yourself."""
    await take(
        session,
        ctx.principal.workspace_id,
        conversation_id,
        acting_of(ctx),
        ctx.can(Scope.conversations_assign),
    )
    return see_other(ctx.request, conversation_path(conversation_id))


@router.post("/inbox/conversations/{conversation_id}/typing", status_code=204)
async def show_typing(
    ctx: WriteConsole, session: SessionDep, conversation_id: ConversationId
) -> Response:
    """Tell the conversation's watchers (the chat widget, colleagues) an agent is typing."""
    workspace_id = ctx.principal.workspace_id
    await conversations.get(session, workspace_id, conversation_id, acting_of(ctx))
    message = {"type": "typing", "author_type": "agent", "conversation_id": conversation_id}
    await get_hub().publish(workspace_id, conversation_topic(conversation_id), message)
    return Response(status_code=204)


@router.post("/inbox/conversations/{conversation_id}/read", status_code=204)
async def mark_read(
    ctx: ReadConsole, session: SessionDep, conversation_id: ConversationId
) -> Response:
    """Record that agents have read the whole thread (the widget shows "Seen")."""
    workspace_id = ctx.principal.workspace_id
    found = await conversations.get(session, workspace_id, conversation_id, acting_of(ctx))
    await widget.mark_read_by_agent(session, workspace_id, found.id, found.message_seq)
    return Response(status_code=204)
