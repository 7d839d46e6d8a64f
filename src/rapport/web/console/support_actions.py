"""Console: what an agent does on a conversation's page: reply, leave a private note with
@mentions, change status, priority and tags, assign it to a colleague or a team."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Form, Path, Response

from rapport.core.deps import SessionDep
from rapport.errors import UnprocessableContent
from rapport.support.enums import ConversationStatus, MessageKind, Priority
from rapport.support.schemas import (
    ID_PATTERN,
    AssignmentChange,
    ConversationUpdate,
    MessageCreate,
)
from rapport.support.service import conversations
from rapport.web.console.context import ConsoleContext
from rapport.web.console.routing import FormText, console_router, on_error, see_other
from rapport.web.console.support_views import (
    AssignConsole,
    WriteConsole,
    acting_of,
    conversation_failed,
    conversation_path,
    mentioned,
    staff_names,
)
from rapport.web.console.templating import zone_named

router = console_router()
ConversationId = Annotated[str, Path(pattern=ID_PATTERN)]
PostedKind = Annotated[MessageKind, Form()]
LongText = Annotated[str, Form(max_length=10_000)]
ShortText = Annotated[str, Form(max_length=2_000)]


def _back(ctx: ConsoleContext, conversation_id: str) -> Response:
    return see_other(ctx.request, conversation_path(conversation_id))


@router.post("/inbox/conversations/{conversation_id}/messages")
@on_error(conversation_failed)
async def post_message(
    ctx: WriteConsole,
    session: SessionDep,
    conversation_id: ConversationId,
    body: LongText = "",
    kind: PostedKind = MessageKind.reply,
) -> Response:
    """Send a public reply, or leave a private note (its @Name mentions are notified)."""
    if kind == MessageKind.customer:
        raise UnprocessableContent("Staff reply or leave notes; customers write their own.")
    mentions = mentioned(body, await staff_names(session, ctx)) if kind == MessageKind.note else []
    message = MessageCreate(kind=kind, body=body, mentions=mentions)
    await conversations.post(
        session, ctx.principal.workspace_id, conversation_id, message, acting_of(ctx)
    )
    return _back(ctx, conversation_id)


def _snooze_time(ctx: ConsoleContext, status: ConversationStatus, value: str) -> datetime | None:
    """Read the snooze time, given in the workspace's time zone (only snoozing takes one)."""
    if status != ConversationStatus.snoozed:
        return None
    if not value:
        raise UnprocessableContent("Say until when to snooze.")
    try:
        local = datetime.fromisoformat(value)
    except ValueError as error:
        raise UnprocessableContent("Snooze until must be a date and time.") from error
    return local.replace(tzinfo=zone_named(ctx.workspace.time_zone))


@router.post("/inbox/conversations/{conversation_id}/status")
@on_error(conversation_failed)
async def change_status(
    ctx: WriteConsole,
    session: SessionDep,
    conversation_id: ConversationId,
    status: Annotated[ConversationStatus, Form()],
    snoozed_until: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Move a conversation to another status (snoozing until a time)."""
    until = _snooze_time(ctx, status, snoozed_until.strip())
    change = ConversationUpdate(status=status, snoozed_until=until)
    await conversations.update(
        session, ctx.principal.workspace_id, conversation_id, change, acting_of(ctx)
    )
    return _back(ctx, conversation_id)


@router.post("/inbox/conversations/{conversation_id}/priority")
@on_error(conversation_failed)
async def change_priority(
    ctx: WriteConsole,
    session: SessionDep,
    conversation_id: ConversationId,
    priority: Annotated[Priority, Form()],
) -> Response:
    """Set the priority by hand (scoring stops; the reason names who set it)."""
    change = ConversationUpdate(priority=priority)
    await conversations.update(
        session, ctx.principal.workspace_id, conversation_id, change, acting_of(ctx)
    )
    return _back(ctx, conversation_id)


@router.post("/inbox/conversations/{conversation_id}/tags")
@on_error(conversation_failed)
async def change_tags(
    ctx: WriteConsole, session: SessionDep, conversation_id: ConversationId, tags: ShortText = ""
) -> Response:
    """Replace the tags with the comma-separated ones given."""
    given = [tag.strip() for tag in tags.split(",") if tag.strip()]
    change = ConversationUpdate.model_validate({"tags": given})
    await conversations.update(
        session, ctx.principal.workspace_id, conversation_id, change, acting_of(ctx)
    )
    return _back(ctx, conversation_id)


@router.post("/inbox/conversations/{conversation_id}/assignment")
@on_error(conversation_failed)
async def assign(
    ctx: AssignConsole,
    session: SessionDep,
    conversation_id: ConversationId,
    assignee_id: FormText = "",
    team_id: FormText = "",
) -> Response:
    """Assign the conversation to a colleague and route it to a team (empty: nobody)."""
    change = AssignmentChange.model_validate(
        {"assignee_id": assignee_id or None, "team_id": team_id or None}
    )
    await conversations.assign(
        session, ctx.principal.workspace_id, conversation_id, change, acting_of(ctx)
    )
    return _back(ctx, conversation_id)
