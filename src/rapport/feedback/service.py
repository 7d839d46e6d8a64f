"""The feedback service: surveys, their responses and the score histograms metrics read."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc, utcnow
from rapport.core.pagination import Page, decode_cursor, encode_cursor, owned_kind
from rapport.customers.service import customers
from rapport.feedback.errors import InvalidAnswer, SurveyNameTaken, SurveyNotFound
from rapport.feedback.metrics import daily_score_histograms as daily_score_histograms
from rapport.feedback.metrics import grouped_score_histograms as grouped_score_histograms
from rapport.feedback.metrics import score_histogram as score_histogram
from rapport.feedback.models import FeedbackSettings, Survey, SurveyResponse
from rapport.feedback.overview import RECENT_DAYS, ResponseQuery, SurveySummary
from rapport.feedback.repository import (
    ResponseRepository,
    SettingsRepository,
    SurveyRepository,
)
from rapport.feedback.schemas import (
    FeedbackSettingsRead,
    FeedbackSettingsUpdate,
    ResponseRead,
    SurveyCreate,
    SurveyRead,
    SurveyUpdate,
)
from rapport.feedback.text import open_answers, open_comment

DEFAULT_THROTTLE_DAYS = 30
RESPONSES_CURSOR = "feedback.responses"


class FeedbackService:
    async def create_survey(
        self, session: AsyncSession, workspace_id: str, body: SurveyCreate
    ) -> SurveyRead:
        """Create a survey."""
        repository = SurveyRepository(session, workspace_id)
        if await repository.named(body.name) is not None:
            raise SurveyNameTaken("Another survey of this workspace has that name.")
        survey = Survey(**body.model_dump(mode="json"))
        return SurveyRead.model_validate(await repository.add(survey))

    async def list_surveys(self, session: AsyncSession, workspace_id: str) -> list[SurveyRead]:
        """Return the workspace's surveys, newest first."""
        repository = SurveyRepository(session, workspace_id)
        return [
            SurveyRead.model_validate(row) for row in await repository.all(repository.listing())
        ]

    async def get_survey(self, session: AsyncSession, workspace_id: str, survey_id: str) -> Survey:
        """Return a survey of this workspace."""
        survey = await SurveyRepository(session, workspace_id).get(survey_id)
        if survey is None:
            raise SurveyNotFound("No such survey in this workspace.")
        return survey

    async def update_survey(
        self, session: AsyncSession, workspace_id: str, survey_id: str, body: SurveyUpdate
    ) -> SurveyRead:
        """Change a survey's name, questions, trigger, channels or flags."""
        survey = await self.get_survey(session, workspace_id, survey_id)
        changes = body.model_dump(mode="json", exclude_unset=True, exclude_none=True)
        renamed = changes.get("name", survey.name) != survey.name
        if renamed and await SurveyRepository(session, workspace_id).named(changes["name"]):
            raise SurveyNameTaken("Another survey of this workspace has that name.")
        if "questions" in changes:
            _check_kind_kept(survey, changes["questions"])
        for name, value in changes.items():
            setattr(survey, name, value)
        survey.updated_at = utcnow()
        await session.flush()
        return SurveyRead.model_validate(survey)

    async def delete_survey(self, session: AsyncSession, workspace_id: str, survey_id: str) -> None:
        """Delete a survey; its responses stay, without it."""
        survey = await self.get_survey(session, workspace_id, survey_id)
        await SurveyRepository(session, workspace_id).delete(survey)

    async def list_responses(
        self,
        session: AsyncSession,
        workspace_id: str,
        *,
        customer_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[ResponseRead]:
        """Return responses newest first, of one customer (and the profiles merged into it)
        when asked."""
        group = None
        if customer_id is not None:
            group = await customers.group_ids(session, workspace_id, customer_id)
        before = None if cursor is None else decode_cursor(RESPONSES_CURSOR, cursor, _cursor_key)
        rows = await ResponseRepository(session, workspace_id).page(group, before, limit + 1)
        items = [response_read(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            key: list[str | int] = [as_utc(last.answered_at).isoformat(), last.id]
            next_cursor = encode_cursor(RESPONSES_CURSOR, key)
        return Page(items=items, next_cursor=next_cursor)

    async def summaries(
        self, session: AsyncSession, workspace_id: str, within: ResponseQuery | None = None
    ) -> dict[str, SurveySummary]:
        """Return each survey's response count and its scores of the last RECENT_DAYS days
        (surveys without a response are left out), counting only the responses `within`
        matches (a viewer limited to their teams counts only what they may see)."""
        repository = ResponseRepository(session, workspace_id)
        within = within or ResponseQuery()
        totals = await repository.per_survey(within)
        recent: dict[str, dict[int, int]] = {}
        since = utcnow() - timedelta(days=RECENT_DAYS)
        for survey_id, score, count in await repository.recent_scores(since, within):
            recent.setdefault(survey_id, {})[score] = count
        return {
            survey_id: SurveySummary(responses=total, recent=recent.get(survey_id, {}))
            for survey_id, total in totals.items()
        }

    async def survey_responses(
        self,
        session: AsyncSession,
        workspace_id: str,
        survey_id: str,
        query: ResponseQuery,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[ResponseRead]:
        """Return one survey's responses matching `query`, newest answer first, by keyset
        cursor (a cursor serves only the survey it was issued for)."""
        survey = await self.get_survey(session, workspace_id, survey_id)
        kind = owned_kind(RESPONSES_CURSOR, survey.id)
        before = None if cursor is None else decode_cursor(kind, cursor, _cursor_key)
        repository = ResponseRepository(session, workspace_id)
        rows = await repository.survey_page(survey.id, query, before, limit + 1)
        items = [response_read(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            key: list[str | int] = [as_utc(last.answered_at).isoformat(), last.id]
            next_cursor = encode_cursor(kind, key)
        return Page(items=items, next_cursor=next_cursor)

    async def for_customer(
        self, session: AsyncSession, workspace_id: str, customer_id: str, limit: int = 10
    ) -> list[ResponseRead]:
        """Return a customer's latest responses (for the customer page)."""
        group = await customers.group_ids(session, workspace_id, customer_id)
        rows = await ResponseRepository(session, workspace_id).for_customers(group, limit)
        return [response_read(row) for row in rows]

    async def for_conversation(
        self, session: AsyncSession, workspace_id: str, conversation_id: str
    ) -> list[ResponseRead]:
        """Return the responses to surveys sent after a conversation."""
        rows = await ResponseRepository(session, workspace_id).for_conversation(conversation_id)
        return [response_read(row) for row in rows]

    async def settings(self, session: AsyncSession, workspace_id: str) -> FeedbackSettingsRead:
        """Return the workspace's survey settings."""
        saved = await SettingsRepository(session, workspace_id).current()
        days = DEFAULT_THROTTLE_DAYS if saved is None else saved.throttle_days
        return FeedbackSettingsRead(throttle_days=days)

    async def update_settings(
        self, session: AsyncSession, workspace_id: str, body: FeedbackSettingsUpdate
    ) -> FeedbackSettingsRead:
        """Change the workspace's survey settings."""
        repository = SettingsRepository(session, workspace_id)
        saved = await repository.current()
        if saved is None:
            saved = await repository.add(FeedbackSettings(throttle_days=body.throttle_days))
        saved.throttle_days = body.throttle_days
        await session.flush()
        return FeedbackSettingsRead(throttle_days=saved.throttle_days)


def _check_kind_kept(survey: Survey, questions: list[dict[str, object]]) -> None:
    kind = str(survey.kind)
    if kind in ("nps", "csat", "ces", "rating") and not any(
        question.get("type") == kind for question in questions
    ):
        raise InvalidAnswer(f"A {kind} survey asks one {kind} question.")


def _cursor_key(values: list[object]) -> tuple[datetime, str]:
    moment, last_id = values
    if not isinstance(moment, str) or not isinstance(last_id, str) or len(last_id) > 32:
        raise ValueError("a responses cursor holds a time and an id")
    return as_utc(datetime.fromisoformat(moment)), last_id


def response_read(row: SurveyResponse) -> ResponseRead:
    """Return a response's API shape, its comment and answers opened."""
    return ResponseRead(
        id=row.id,
        survey_id=row.survey_id,
        customer_id=row.customer_id,
        kind=row.kind,
        score=row.score,
        comment=open_comment(row.id, row.comment),
        answers=open_answers(row.id, row.answers),
        channel=row.channel,
        conversation_id=row.conversation_id,
        team_id=row.team_id,
        staff_id=row.staff_id,
        answered_at=row.answered_at,
        origin=str(row.origin),
        sentiment_label=row.sentiment_label,
        sentiment_score=row.sentiment_score,
        topics=list(row.topics or []),
    )


feedback = FeedbackService()
