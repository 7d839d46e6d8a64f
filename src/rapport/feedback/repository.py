"""Every SQL statement of the feedback domain, scoped to one workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rapport.core.db import lock_key
from rapport.core.repository import Repository, TenantRepository
from rapport.feedback.models import FeedbackSettings, Survey, SurveyInvitation, SurveyResponse
from rapport.feedback.overview import ResponseQuery


@dataclass(frozen=True)
class ResponseFilters:
    """What the metrics narrow responses by (None: any)."""

    channel: str | None = None
    team_id: str | None = None
    staff_id: str | None = None
    survey_id: str | None = None


class SurveyRepository(TenantRepository[Survey]):
    model = Survey

    def listing(self) -> Select[Survey]:
        """Return the workspace's surveys, newest first."""
        return self.base_query().order_by(Survey.id.desc())

    async def active_for(self, event: str) -> Survey | None:
        """Return the newest active survey its trigger sends on this event."""
        statement = self.base_query().where(Survey.active.is_(True)).order_by(Survey.id.desc())
        found = [
            survey for survey in await self.all(statement) if survey.trigger.get("event") == event
        ]
        return found[0] if found else None

    async def named(self, name: str) -> Survey | None:
        """Return the survey with this name."""
        return await self.one_or_none(self.base_query().where(Survey.name == name))


class InvitationRepository(TenantRepository[SurveyInvitation]):
    model = SurveyInvitation

    async def lock_customer(self, customer_id: str) -> None:
        """Make checking the throttle and inviting one customer one step at a time until
        commit (an advisory lock on PostgreSQL, the writer on SQLite)."""
        await lock_key(self.session, f"feedback.throttle:{customer_id}")

    async def latest_for(self, customer_id: str) -> datetime | None:
        """Return when this customer was last sent a survey."""
        statement = select(func.max(SurveyInvitation.created_at)).where(
            SurveyInvitation.workspace_id == self.workspace_id,
            SurveyInvitation.customer_id == customer_id,
        )
        value = (await self.session.execute(statement)).scalar_one_or_none()
        return value if isinstance(value, datetime) or value is None else None

    async def open_for_conversation(
        self, conversation_id: str, channel: str, now: datetime
    ) -> SurveyInvitation | None:
        """Return the newest unanswered, unexpired invitation of a conversation on a channel."""
        statement = self.base_query().where(
            SurveyInvitation.conversation_id == conversation_id,
            SurveyInvitation.channel == channel,
            SurveyInvitation.answered_at.is_(None),
            SurveyInvitation.expires_at > now,
        )
        return await self.one_or_none(statement.order_by(SurveyInvitation.id.desc()).limit(1))

    async def conversation_asked(self, conversation_id: str) -> bool:
        """Tell whether any survey was ever sent after this conversation."""
        statement = self.base_query().where(SurveyInvitation.conversation_id == conversation_id)
        return await self.one_or_none(statement.limit(1)) is not None

    async def locked(self, invitation_id: str) -> SurveyInvitation | None:
        """Return an invitation locked for a change."""
        statement = self.base_query().where(SurveyInvitation.id == invitation_id)
        return await self.one_or_none(statement.with_for_update())


class ResponseRepository(TenantRepository[SurveyResponse]):
    model = SurveyResponse

    def _window(
        self, kind: str, start: datetime, end: datetime, filters: ResponseFilters
    ) -> list[ColumnElement[bool]]:
        conditions = [
            SurveyResponse.workspace_id == self.workspace_id,
            SurveyResponse.kind == kind,
            SurveyResponse.answered_at >= start,
            SurveyResponse.answered_at < end,
            SurveyResponse.score.is_not(None),
        ]
        for column, value in (
            (SurveyResponse.channel, filters.channel),
            (SurveyResponse.team_id, filters.team_id),
            (SurveyResponse.staff_id, filters.staff_id),
            (SurveyResponse.survey_id, filters.survey_id),
        ):
            if value is not None:
                conditions.append(column == value)
        return conditions

    def histogram_query(
        self, kind: str, start: datetime, end: datetime, filters: ResponseFilters
    ) -> Select[int | None, int]:
        """Return the statement of `histogram` (read from ix_feedback_responses_kind_answered
        alone)."""
        return (
            select(SurveyResponse.score, func.count())
            .where(*self._window(kind, start, end, filters))
            .group_by(SurveyResponse.score)
        )

    async def histogram(
        self, kind: str, start: datetime, end: datetime, filters: ResponseFilters
    ) -> dict[int, int]:
        """Count the scores of one kind answered in [start, end), by score."""
        statement = self.histogram_query(kind, start, end, filters)
        rows = (await self.session.execute(statement)).all()
        return {int(score): int(count) for score, count in rows if score is not None}

    async def grouped_histograms(
        self,
        kind: str,
        start: datetime,
        end: datetime,
        filters: ResponseFilters,
        by: str,
        team_ids: Sequence[str] | None,
    ) -> list[tuple[str, int, int]]:
        """Count the scores of one kind answered in [start, end) by `by` (channel, team or
        agent) and score in one grouped statement: (group, score, count) rows, answers
        without that column left out; `team_ids` narrows to these teams (None: any)."""
        column = {
            "channel": SurveyResponse.channel,
            "team": SurveyResponse.team_id,
            "agent": SurveyResponse.staff_id,
        }[by]
        conditions = self._window(kind, start, end, filters)
        if team_ids is not None:
            conditions.append(SurveyResponse.team_id.in_(team_ids))
        statement = (
            select(column, SurveyResponse.score, func.count())
            .where(*conditions, column.is_not(None))
            .group_by(column, SurveyResponse.score)
        )
        rows = (await self.session.execute(statement)).all()
        return [
            (str(group), int(score), int(count))
            for group, score, count in rows
            if score is not None
        ]

    async def daily_histograms(
        self,
        kind: str,
        start: datetime,
        end: datetime,
        filters: ResponseFilters,
        *,
        time_zone: str,
        stretches: list[tuple[datetime, int]],
    ) -> list[tuple[date, int, int]]:
        """Count the scores of one kind answered in [start, end) by local day and score:
        (day, score, count) rows; `stretches` are the window's constant-offset parts."""
        day = self._local_day(time_zone, stretches)
        statement = (
            select(day.label("day"), SurveyResponse.score, func.count())
            .where(*self._window(kind, start, end, filters))
            .group_by(day, SurveyResponse.score)
        )
        rows = (await self.session.execute(statement)).all()
        return [(_as_date(local), int(score), int(count)) for local, score, count in rows]

    def _local_day(self, time_zone: str, stretches: list[tuple[datetime, int]]) -> Any:
        """Return the SQL expression of an answer's local day."""
        answered = SurveyResponse.answered_at
        if self.dialect == "postgresql":
            return func.date(func.timezone(literal(time_zone), answered))
        shifted = [
            (until, func.date(answered, f"{offset:+d} seconds")) for until, offset in stretches
        ]
        if len(shifted) == 1:
            return shifted[0][1]
        return case(*((answered < until, day) for until, day in shifted[:-1]), else_=shifted[-1][1])

    async def for_customers(
        self, customer_ids: Sequence[str], limit: int
    ) -> Sequence[SurveyResponse]:
        """Return the latest responses of these profiles."""
        statement = (
            self.base_query()
            .where(SurveyResponse.customer_id.in_(customer_ids))
            .order_by(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
            .limit(limit)
        )
        return await self.all(statement)

    async def page(
        self, customer_ids: Sequence[str] | None, before: tuple[datetime, str] | None, limit: int
    ) -> Sequence[SurveyResponse]:
        """Return responses newest answer first, of these profiles when given, after the
        (answered_at, id) of the previous page's last one."""
        statement = self.base_query()
        if customer_ids is not None:
            statement = statement.where(SurveyResponse.customer_id.in_(customer_ids))
        if before is not None:
            moment, last_id = before
            statement = statement.where(
                or_(
                    SurveyResponse.answered_at < moment,
                    and_(SurveyResponse.answered_at == moment, SurveyResponse.id < last_id),
                )
            )
        order = (SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
        return await self.all(statement.order_by(*order).limit(limit))

    async def per_survey(self, query: ResponseQuery) -> dict[str, int]:
        """Count every survey's responses that `query` matches."""
        statement = (
            select(SurveyResponse.survey_id, func.count())
            .where(
                SurveyResponse.workspace_id == self.workspace_id,
                SurveyResponse.survey_id.is_not(None),
                *_conditions(query),
            )
            .group_by(SurveyResponse.survey_id)
        )
        rows = (await self.session.execute(statement)).all()
        return {str(survey_id): int(count) for survey_id, count in rows}

    async def recent_scores(
        self, since: datetime, query: ResponseQuery
    ) -> list[tuple[str, int, int]]:
        """Count the scores answered since `since` that `query` matches, by survey: (survey,
        score, count) rows."""
        statement = (
            select(SurveyResponse.survey_id, SurveyResponse.score, func.count())
            .where(
                SurveyResponse.workspace_id == self.workspace_id,
                SurveyResponse.survey_id.is_not(None),
                SurveyResponse.score.is_not(None),
                SurveyResponse.answered_at >= since,
                *_conditions(query),
            )
            .group_by(SurveyResponse.survey_id, SurveyResponse.score)
        )
        rows = (await self.session.execute(statement)).all()
        return [
            (str(survey_id), int(score), int(count))
            for survey_id, score, count in rows
            if score is not None
        ]

    async def survey_page(
        self,
        survey_id: str,
        query: ResponseQuery,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> Sequence[SurveyResponse]:
        """Return one survey's responses matching `query`, newest answer first, after the
        (answered_at, id) of the previous page's last one."""
        statement = self.base_query().where(SurveyResponse.survey_id == survey_id)
        for condition in _conditions(query):
            statement = statement.where(condition)
        if before is not None:
            moment, last_id = before
            statement = statement.where(
                or_(
                    SurveyResponse.answered_at < moment,
                    and_(SurveyResponse.answered_at == moment, SurveyResponse.id < last_id),
                )
            )
        order = (SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
        return await self.all(statement.order_by(*order).limit(limit))

    async def for_conversation(self, conversation_id: str) -> Sequence[SurveyResponse]:
        """Return the responses to surveys sent after a conversation."""
        statement = self.base_query().where(SurveyResponse.conversation_id == conversation_id)
        return await self.all(statement.order_by(SurveyResponse.answered_at))

    async def insert_new(self, rows: list[dict[str, Any]]) -> int:
        """Insert responses, skipping those whose dedupe key is already stored; return how
        many were new."""
        if not rows:
            return 0
        for row in rows:
            row["workspace_id"] = self.workspace_id
        insert = postgresql_insert if self.dialect == "postgresql" else sqlite_insert
        table = SurveyResponse.metadata.tables["feedback_responses"]
        # Core, not the ORM's bulk path: one multi-row INSERT per batch, no per-row objects.
        statement = insert(table).on_conflict_do_nothing(
            index_elements=["workspace_id", "dedupe_key"]
        )
        result = await self.session.execute(statement.returning(table.c.id), rows)
        return len(result.all())

    async def set_sentiment(
        self, response_id: str, label: str, score: float, topics: list[str]
    ) -> None:
        """Store a comment's sentiment and topics."""
        await self.session.execute(
            update(SurveyResponse)
            .where(
                SurveyResponse.workspace_id == self.workspace_id, SurveyResponse.id == response_id
            )
            .values(sentiment_label=label, sentiment_score=score, topics=topics)
        )


class LinkRepository(Repository[SurveyInvitation]):
    """What a survey link reaches before its workspace is known: the signed id names it."""

    model = SurveyInvitation

    async def invitation(
        self, invitation_id: str, *, lock: bool = False
    ) -> SurveyInvitation | None:
        """Return the invitation a checked link names (locked when asked)."""
        statement = self.base_query().where(SurveyInvitation.id == invitation_id)
        return await self.one_or_none(statement.with_for_update() if lock else statement)

    async def survey(self, workspace_id: str, survey_id: str) -> Survey | None:
        """Return the invitation's survey, in the invitation's workspace."""
        return await SurveyRepository(self.session, workspace_id).get(survey_id)


class SettingsRepository(TenantRepository[FeedbackSettings]):
    model = FeedbackSettings

    async def current(self) -> FeedbackSettings | None:
        """Return the workspace's feedback settings, if any were saved."""
        return await self.one_or_none(self.base_query())


def _conditions(query: ResponseQuery) -> list[ColumnElement[bool]]:
    """Return the SQL conditions of a responses query."""
    found: list[ColumnElement[bool]] = []
    if query.min_score is not None:
        found.append(SurveyResponse.score >= query.min_score)
    if query.max_score is not None:
        found.append(SurveyResponse.score <= query.max_score)
    if query.channel is not None:
        found.append(SurveyResponse.channel == query.channel)
    if query.sentiment is not None:
        found.append(SurveyResponse.sentiment_label == query.sentiment)
    if query.topic is not None:
        # Topics are a JSON list of known names: its text holds each one quoted.
        found.append(cast(SurveyResponse.topics, String).like(f'%"{query.topic}"%'))
    if query.with_comment:
        found.append(SurveyResponse.comment.is_not(None))
    if query.start is not None:
        found.append(SurveyResponse.answered_at >= query.start)
    if query.end is not None:
        found.append(SurveyResponse.answered_at < query.end)
    if query.within_team_ids is not None:
        seen: ColumnElement[bool] = SurveyResponse.team_id.in_(query.within_team_ids)
        if query.staff_id is not None:
            seen = or_(seen, SurveyResponse.staff_id == query.staff_id)
        found.append(seen)
    return found


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
