"""Console: the assistant's settings per channel (on or off, name, hand-off rules) and its
optional generative mode (endpoint, model, sealed API key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from rapport.assistant.generative import generative
from rapport.assistant.schemas import AssistantSettingsUpdate, GenerativeSettingsUpdate
from rapport.assistant.service import assistant
from rapport.core.deps import SessionDep
from rapport.errors import UnprocessableContent
from rapport.identity.audit import Actor
from rapport.identity.enums import Scope
from rapport.support.enums import Channel
from rapport.web.console.context import ConsoleContext, console_requiring
from rapport.web.console.routing import FormText, console_router, see_other
from rapport.web.console.templating import page

router = console_router()
ReadConsole = Annotated[ConsoleContext, console_requiring(Scope.conversations_read)]
AssignConsole = Annotated[ConsoleContext, console_requiring(Scope.conversations_assign)]
AdminConsole = Annotated[ConsoleContext, console_requiring(Scope.workspace_write)]
ChannelName = Annotated[Channel, Path()]


@router.get("/assistant", response_class=HTMLResponse)
async def show_assistant_settings(ctx: ReadConsole, session: SessionDep) -> Response:
    """Show the assistant's settings for every channel."""
    listed = await assistant.all_settings(session, ctx.principal.workspace_id)
    model = await generative.settings(session, ctx.principal.workspace_id)
    return page(ctx, "assistant/settings.html", items=listed.items, generative=model)


# Before /assistant/{channel}, which would take "generative" for a channel.
@router.post("/assistant/generative")
async def save_generative_settings(
    ctx: AdminConsole,
    session: SessionDep,
    enabled: FormText = "",
    base_url: FormText = "",
    model: FormText = "",
    api_key: FormText = "",
    clear_api_key: FormText = "",
    timeout_seconds: FormText = "",
) -> Response:
    """Set the generative mode's endpoint, model and key (an empty key keeps the stored one)."""
    try:
        body = GenerativeSettingsUpdate.model_validate(
            {
                "enabled": enabled == "on",
                "base_url": base_url,
                "model": model,
                "api_key": api_key.strip() or None,
                "clear_api_key": clear_api_key == "on",
                "timeout_seconds": timeout_seconds or "8",
            }
        )
    except ValidationError as invalid:
        location = invalid.errors()[0]["loc"]
        field = str(location[0]) if location else "form"
        raise UnprocessableContent(f"Check the {field.replace('_', ' ')}.") from None
    await generative.configure(session, ctx.principal.workspace_id, body, Actor.of(ctx.principal))
    return see_other(ctx.request, "/console/assistant")


@router.post("/assistant/{channel}")
async def save_assistant_settings(
    ctx: AssignConsole,
    session: SessionDep,
    channel: ChannelName,
    enabled: FormText = "",
    name: FormText = "",
    confidence_threshold: FormText = "",
    negative_sentiment_threshold: FormText = "",
    knowledge_threshold: FormText = "",
    vip_trait: FormText = "",
) -> Response:
    """Turn the assistant on or off for a channel and set its hand-off rules."""
    try:
        body = AssistantSettingsUpdate.model_validate(
            {
                "enabled": enabled == "on",
                "name": name.strip() or "Assistant",
                "confidence_threshold": confidence_threshold or "0.6",
                "negative_sentiment_threshold": negative_sentiment_threshold or "-0.6",
                "knowledge_threshold": knowledge_threshold or "0.5",
                "vip_trait": vip_trait.strip() or None,
            }
        )
    except ValidationError as invalid:
        location = invalid.errors()[0]["loc"]
        field = str(location[0]) if location else "form"
        raise UnprocessableContent(f"Check the {field.replace('_', ' ')}.") from None
    await assistant.configure(
        session, ctx.principal.workspace_id, channel, body, Actor.of(ctx.principal)
    )
    return see_other(ctx.request, "/console/assistant")
