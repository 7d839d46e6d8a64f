"""HTTP: the assistant's settings per channel, its generative mode per workspace, and (routes
of their own) agent assist and custom intents."""

from __future__ import annotations

from fastapi import APIRouter

from rapport.assistant.auth import AssistantAdmin, AssistantRead, AssistantWrite
from rapport.assistant.generative import generative
from rapport.assistant.intent_endpoints import router as intents_router
from rapport.assistant.schemas import (
    AssistantSettingsChange,
    AssistantSettingsList,
    AssistantSettingsRead,
    GenerativeSettingsRead,
    GenerativeSettingsUpdate,
)
from rapport.assistant.service import assistant
from rapport.assistant.suggestion_endpoints import router as suggestions_router
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


@router.get("/generative", response_model=GenerativeSettingsRead)
async def get_generative_settings(
    principal: AssistantRead, session: SessionDep
) -> GenerativeSettingsRead:
    """Return the generative mode's endpoint and model (never the API key)."""
    return await generative.settings(session, principal.workspace_id)


@router.put("/generative", response_model=GenerativeSettingsRead)
async def set_generative_settings(
    body: GenerativeSettingsUpdate, principal: AssistantAdmin, session: SessionDep
) -> GenerativeSettingsRead:
    """Set the OpenAI-compatible endpoint the assistant asks (its key is sealed at rest)."""
    return await generative.configure(session, principal.workspace_id, body, Actor.of(principal))


# Agent assist (/conversations/...) and custom intents (/assistant-intents) keep their own
# paths, outside this router's prefix.
router.routes.extend(suggestions_router.routes)
router.routes.extend(intents_router.routes)
