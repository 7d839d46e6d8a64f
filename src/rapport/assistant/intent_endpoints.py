"""HTTP: the workspace's own intents (examples and an answer each) and their check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from rapport.assistant.auth import AssistantRead, AssistantWrite, CustomIntentId
from rapport.assistant.custom_intents import MATCH_DAYS, MAX_MATCH_DAYS, custom_intents
from rapport.assistant.errors import CustomIntentNotFound, IntentNameTaken, TooManyIntents
from rapport.assistant.schemas import (
    CustomIntentList,
    CustomIntentMatchReport,
    CustomIntentRead,
    CustomIntentReport,
    CustomIntentWrite,
)
from rapport.core.deps import DatabaseDep, SessionDep
from rapport.errors import error_responses
from rapport.identity.audit import Actor

router = APIRouter(prefix="/assistant-intents", tags=["assistant"])


@router.get("", response_model=CustomIntentList)
async def list_custom_intents(principal: AssistantRead, session: SessionDep) -> CustomIntentList:
    """Return the workspace's custom intents, by name."""
    return await custom_intents.listed(session, principal.workspace_id)


@router.post(
    "",
    response_model=CustomIntentRead,
    status_code=201,
    responses=error_responses(IntentNameTaken, TooManyIntents),
)
async def create_custom_intent(
    body: CustomIntentWrite, principal: AssistantWrite, session: SessionDep
) -> CustomIntentRead:
    """Add an intent of the workspace's own: messages close to its examples get its answer."""
    return await custom_intents.create(session, principal.workspace_id, body, Actor.of(principal))


# Before /{intent_id}, which would take "report" or "matches" for an id (they do not match
# the pattern).
@router.get("/report", response_model=CustomIntentReport)
async def check_custom_intents(
    principal: AssistantRead, database: DatabaseDep
) -> CustomIntentReport:
    """Tell, per enabled intent, how many of its examples the others find, and which other
    intents they are mistaken for (each example left out in turn)."""
    return await custom_intents.report(database.engine, principal.workspace_id)


@router.get("/matches", response_model=CustomIntentMatchReport)
async def count_custom_intent_matches(
    principal: AssistantRead,
    session: SessionDep,
    days: Annotated[
        int, Query(ge=1, le=MAX_MATCH_DAYS, description="Days back, today included (UTC).")
    ] = MATCH_DAYS,
) -> CustomIntentMatchReport:
    """Count, per custom intent and day, the customer messages that took it."""
    return await custom_intents.matches(session, principal.workspace_id, days)


@router.get(
    "/{intent_id}", response_model=CustomIntentRead, responses=error_responses(CustomIntentNotFound)
)
async def get_custom_intent(
    intent_id: CustomIntentId, principal: AssistantRead, session: SessionDep
) -> CustomIntentRead:
    """Return one custom intent."""
    return await custom_intents.get(session, principal.workspace_id, intent_id)


@router.put(
    "/{intent_id}",
    response_model=CustomIntentRead,
    responses=error_responses(CustomIntentNotFound, IntentNameTaken),
)
async def replace_custom_intent(
    intent_id: CustomIntentId,
    body: CustomIntentWrite,
    principal: AssistantWrite,
    session: SessionDep,
) -> CustomIntentRead:
    """Replace a custom intent's name, examples, answer and switch."""
    return await custom_intents.replace(
        session, principal.workspace_id, intent_id, body, Actor.of(principal)
    )


@router.delete("/{intent_id}", status_code=204, responses=error_responses(CustomIntentNotFound))
async def delete_custom_intent(
    intent_id: CustomIntentId, principal: AssistantWrite, session: SessionDep
) -> Response:
    """Delete a custom intent (messages keep the intent they were labelled with)."""
    await custom_intents.delete(session, principal.workspace_id, intent_id, Actor.of(principal))
    return Response(status_code=204)
