"""HTTP: the assistant's settings per channel."""

from __future__ import annotations

from fastapi import APIRouter

from rapport.assistant.auth import AssistantRead, AssistantWrite, ChannelName
from rapport.assistant.schemas import (
    AssistantSettingsList,
    AssistantSettingsRead,
    AssistantSettingsUpdate,
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


@router.get("/{channel}", response_model=AssistantSettingsRead)
async def get_assistant_settings(
    channel: ChannelName, principal: AssistantRead, session: SessionDep
) -> AssistantSettingsRead:
    """Return the assistant's settings for one channel."""
    return await assistant.settings(session, principal.workspace_id, channel)


@router.put("/{channel}", response_model=AssistantSettingsRead)
async def set_assistant_settings(
    channel: ChannelName, body: AssistantSettingsUpdate, principal: AssistantWrite,
    session: SessionDep,
) -> AssistantSettingsRead:  # fmt: skip
    """Turn the assistant on or off for a channel and set its hand-off rules."""
    return await assistant.configure(
        session, principal.workspace_id, channel, body, Actor.of(principal)
    )
