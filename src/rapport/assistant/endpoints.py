"""HTTP: the assistant's settings per channel."""

from __future__ import annotations

from fastapi import APIRouter

from rapport.assistant.auth import AssistantRead, AssistantWrite
from rapport.assistant.schemas import (
    AssistantSettingsChange,
    AssistantSettingsList,
    AssistantSettingsRead,
)
from rapport.assistant.service import assistant
from rapport.core.deps import SessionDep
from rapport.identity.audit import Actor

router = APIRouter(prefix="/assistant-settings", tags=["assistant"])


@router.get("", response_model=AssistantSettingsList)
async def list_assistant_settings(
    principal: AssistantRead, session: SessionDep
) -> AssistantSettingsList:
    """Return the assistant's settings for every channel."""
    return await assistant.all_settings(session, principal.workspace_id)


@router.put("", response_model=AssistantSettingsRead)
async def set_assistant_settings(
    body: AssistantSettingsChange, principal: AssistantWrite, session: SessionDep
) -> AssistantSettingsRead:
    """Turn the assistant on or off for a channel and set its hand-off rules."""
    return await assistant.configure(
        session, principal.workspace_id, body.channel, body, Actor.of(principal)
    )
