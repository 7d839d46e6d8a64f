"""Feedback REST endpoints: surveys, survey responses and the survey settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from rapport.core.deps import SessionDep
from rapport.core.pagination import Page
from rapport.customers.errors import CustomerNotFound
from rapport.errors import BadRequest, error_responses
from rapport.feedback.auth import ID_PATTERN, FeedbackRead, FeedbackWrite, SurveyId
from rapport.feedback.campaigns import CampaignCreate, CampaignRead, start_campaign
from rapport.feedback.delivery import delivery
from rapport.feedback.errors import SurveyNameTaken, SurveyNotFound, SurveyNotSent
from rapport.feedback.schemas import (
    FeedbackSettingsRead,
    FeedbackSettingsUpdate,
    ResponseRead,
    SurveyCreate,
    SurveyRead,
    SurveySend,
    SurveySendRead,
    SurveyUpdate,
)
from rapport.feedback.service import feedback
from rapport.identity.enums import Scope
from rapport.identity.errors import MissingScope

router = APIRouter(tags=["feedback"])


@router.get("/surveys", response_model=list[SurveyRead])
async def list_surveys(principal: FeedbackRead, session: SessionDep) -> list[SurveyRead]:
    """List the workspace's surveys, newest first."""
    return await feedback.list_surveys(session, principal.workspace_id)


@router.post(
    "/surveys",
    response_model=SurveyRead,
    status_code=201,
    responses=error_responses(SurveyNameTaken),
)
async def create_survey(
    body: SurveyCreate, principal: FeedbackWrite, session: SessionDep
) -> SurveyRead:
    """Create a survey."""
    return await feedback.create_survey(session, principal.workspace_id, body)


@router.get(
    "/surveys/{survey_id}", response_model=SurveyRead, responses=error_responses(SurveyNotFound)
)
async def get_survey(
    survey_id: SurveyId, principal: FeedbackRead, session: SessionDep
) -> SurveyRead:
    """Return one survey."""
    survey = await feedback.get_survey(session, principal.workspace_id, survey_id)
    return SurveyRead.model_validate(survey)


@router.patch(
    "/surveys/{survey_id}",
    response_model=SurveyRead,
    responses=error_responses(SurveyNotFound, SurveyNameTaken),
)
async def update_survey(
    survey_id: SurveyId, body: SurveyUpdate, principal: FeedbackWrite, session: SessionDep
) -> SurveyRead:
    """Change a survey's name, questions, trigger, channels or flags."""
    return await feedback.update_survey(session, principal.workspace_id, survey_id, body)


@router.delete("/surveys/{survey_id}", status_code=204, responses=error_responses(SurveyNotFound))
async def delete_survey(
    survey_id: SurveyId, principal: FeedbackWrite, session: SessionDep
) -> Response:
    """Delete a survey; its responses stay."""
    await feedback.delete_survey(session, principal.workspace_id, survey_id)
    return Response(status_code=204)


@router.post(
    "/surveys/{survey_id}/sends",
    response_model=SurveySendRead,
    status_code=201,
    responses=error_responses(SurveyNotFound, CustomerNotFound, SurveyNotSent),
)
async def send_survey(
    survey_id: SurveyId, body: SurveySend, principal: FeedbackWrite, session: SessionDep
) -> SurveySendRead:
    """Send a survey to one customer now (throttle and consent apply)."""
    return await delivery.send_by_hand(session, principal.workspace_id, survey_id, body)


@router.post(
    "/surveys/{survey_id}/campaigns",
    response_model=CampaignRead,
    status_code=202,
    responses=error_responses(SurveyNotFound, SurveyNotSent),
)
async def start_survey_campaign(
    survey_id: SurveyId, body: CampaignCreate, principal: FeedbackWrite, session: SessionDep
) -> CampaignRead:
    """Send a survey to every customer a customers-list filter matches, in batches (jobs);
    throttle and consent apply to each."""
    return await start_campaign(session, principal.workspace_id, survey_id, body)


@router.get(
    "/survey-responses",
    response_model=Page[ResponseRead],
    responses=error_responses(CustomerNotFound, BadRequest, MissingScope),
)
async def list_survey_responses(
    principal: FeedbackRead,
    session: SessionDep,
    customer_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only this customer's responses.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Responses per page.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> Page[ResponseRead]:
    """List survey responses newest first, optionally of one customer. One customer's answers
    are part of their profile (feedback:read); every customer's at once are a report, with
    every agent's and team's scores, so they also need reports:read (not granted to agents)."""
    if customer_id is None and not principal.can(Scope.reports_read):
        raise MissingScope("Listing every customer's answers needs the reports:read scope.")
    return await feedback.list_responses(
        session, principal.workspace_id, customer_id=customer_id, limit=limit, cursor=cursor
    )


@router.get("/survey-settings", response_model=FeedbackSettingsRead)
async def get_survey_settings(principal: FeedbackRead, session: SessionDep) -> FeedbackSettingsRead:
    """Return the workspace's survey settings (the throttle)."""
    return await feedback.settings(session, principal.workspace_id)


@router.put("/survey-settings", response_model=FeedbackSettingsRead)
async def update_survey_settings(
    body: FeedbackSettingsUpdate, principal: FeedbackWrite, session: SessionDep
) -> FeedbackSettingsRead:
    """Change the workspace's survey settings."""
    return await feedback.update_settings(session, principal.workspace_id, body)
