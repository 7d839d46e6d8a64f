"""Console: surveys (list with counts and the last 30 days' score, create and edit with a
preview as the customer sees it, turn on and off, campaigns to a filtered group) and each
survey's responses (filters, keyset pages, CSV export). Every write goes through the
feedback service; every route checks a feedback scope (the responses also reports:read)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.deps import SessionDep
from rapport.core.pagination import Page
from rapport.customers.enums import ConsentPurpose
from rapport.customers.listing import listing
from rapport.errors import BadRequest, RapportError, UnprocessableContent
from rapport.feedback.campaigns import CampaignCreate, count_matching, start_campaign
from rapport.feedback.enums import SCORE_RANGES, DeliveryChannel
from rapport.feedback.overview import RECENT_DAYS, SENTIMENTS, ResponseQuery
from rapport.feedback.schemas import (
    FeedbackSettingsUpdate,
    Question,
    ResponseRead,
    SurveyRead,
    SurveyUpdate,
)
from rapport.feedback.service import feedback
from rapport.feedback.text import TOPICS
from rapport.identity.enums import Scope
from rapport.support.schemas import Visibility
from rapport.support.teams import teams
from rapport.web.console.context import ConsoleContext, console_requiring
from rapport.web.console.routing import console_router, see_other
from rapport.web.console.survey_forms import (
    CHANNEL_LABELS,
    KIND_LABELS,
    QUESTION_LABELS,
    TRIGGER_LABELS,
    SurveyDraft,
    channel_options,
    from_form,
    from_survey,
    kind_options,
    starter,
)
from rapport.web.console.templating import bare_page, page, zone_named

router = console_router()
ReadConsole = Annotated[ConsoleContext, console_requiring(Scope.feedback_read)]
WriteConsole = Annotated[ConsoleContext, console_requiring(Scope.feedback_write)]
# Every customer's answers with every agent's scores: a report (as in the API).
ReportConsole = Annotated[
    ConsoleContext, console_requiring(Scope.feedback_read, Scope.reports_read)
]
SurveyId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
PAGE_SIZE = 50
EXPORT_PAGE = 500
MAX_FORM_FIELDS = 600
MAX_FIELD = 4_000
PREVIEW_HEADERS = {"Cache-Control": "no-store"}


def _survey_values(draft: SurveyDraft) -> dict[str, Any]:
    return {
        "draft": draft,
        "kinds": kind_options(),
        "question_types": QUESTION_LABELS,
        "triggers": TRIGGER_LABELS,
        "channels": channel_options(),
        "score_ranges": SCORE_RANGES,
    }


async def _form(request: Request) -> dict[str, str]:
    """Read the editor's form: text fields only, of bounded number and size."""
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str) or len(value) > MAX_FIELD:
            raise UnprocessableContent(f"The field {key[:40]} is too long.")
        values.setdefault(key, value)
    return values


def _editor(
    ctx: ConsoleContext,
    draft: SurveyDraft,
    *,
    survey: SurveyRead | None,
    error: RapportError | None = None,
    settings_days: int | None = None,
) -> Response:
    status = error.status_code if error is not None else 200
    return page(
        ctx,
        "surveys/edit.html",
        status_code=status,
        survey=survey,
        error=error,
        throttle_days=settings_days,
        **_survey_values(draft),
    )


@router.get("/surveys", response_class=HTMLResponse)
async def list_surveys(ctx: ReadConsole, session: SessionDep) -> Response:
    """List the surveys: kind, trigger, channels, on/off, responses, the recent score."""
    workspace_id = ctx.principal.workspace_id
    surveys = await feedback.list_surveys(session, workspace_id)
    summaries = await feedback.summaries(session, workspace_id, await _seen(session, ctx))
    settings = await feedback.settings(session, workspace_id)
    return page(
        ctx,
        "surveys/list.html",
        surveys=surveys,
        summaries=summaries,
        throttle_days=settings.throttle_days,
        recent_days=RECENT_DAYS,
        kind_labels=KIND_LABELS,
        triggers=TRIGGER_LABELS,
        channel_labels=CHANNEL_LABELS,
        kinds=kind_options(),
        show_scores=ctx.can(Scope.reports_read),
    )


@router.post("/survey-settings")
async def save_settings(
    ctx: WriteConsole,
    session: SessionDep,
    throttle_days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Change how often one customer may be asked (at most one survey per N days)."""
    try:
        body = FeedbackSettingsUpdate(throttle_days=int(throttle_days.strip()))
    except (ValueError, ValidationError):
        raise UnprocessableContent(
            "The throttle is a whole number of days from 0 (off) to 365."
        ) from None
    await feedback.update_settings(session, ctx.principal.workspace_id, body)
    return see_other(ctx.request, "/console/surveys?notice=survey-settings-saved")


@router.get("/surveys/new", response_class=HTMLResponse)
async def new_survey(
    ctx: WriteConsole,
    session: SessionDep,
    kind: Annotated[str, Query(max_length=16)] = "nps",
) -> Response:
    """Show the form of a new survey, starting from the kind's usual question."""
    settings = await feedback.settings(session, ctx.principal.workspace_id)
    return _editor(ctx, starter(kind), survey=None, settings_days=settings.throttle_days)


@router.post("/surveys", response_class=HTMLResponse)
async def create_survey(ctx: WriteConsole, session: SessionDep) -> Response:
    """Create a survey; a refused form comes back with its values and the reason."""
    draft = from_form(await _form(ctx.request))
    try:
        created = await feedback.create_survey(
            session, ctx.principal.workspace_id, draft.to_create()
        )
    except RapportError as error:  # refused before anything was written
        return _editor(ctx, draft, survey=None, error=error)
    return see_other(ctx.request, f"/console/surveys/{created.id}/edit?notice=survey-saved")


async def _survey(session: AsyncSession, ctx: ConsoleContext, survey_id: str) -> SurveyRead:
    found = await feedback.get_survey(session, ctx.principal.workspace_id, survey_id)
    return SurveyRead.model_validate(found)


@router.get("/surveys/{survey_id}/edit", response_class=HTMLResponse)
async def edit_survey(ctx: ReadConsole, session: SessionDep, survey_id: SurveyId) -> Response:
    """Show a survey's form (read-only without feedback:write)."""
    survey = await _survey(session, ctx, survey_id)
    settings = await feedback.settings(session, ctx.principal.workspace_id)
    return _editor(ctx, from_survey(survey), survey=survey, settings_days=settings.throttle_days)


@router.post("/surveys/{survey_id}/edit", response_class=HTMLResponse)
async def update_survey(ctx: WriteConsole, session: SessionDep, survey_id: SurveyId) -> Response:
    """Save a survey's name, questions, trigger, channels and flags."""
    survey = await _survey(session, ctx, survey_id)
    draft = from_form(await _form(ctx.request), kind=str(survey.kind))
    try:
        await feedback.update_survey(
            session, ctx.principal.workspace_id, survey_id, draft.to_update()
        )
    except RapportError as error:  # refused before anything was written
        return _editor(ctx, draft, survey=survey, error=error)
    return see_other(ctx.request, f"/console/surveys/{survey_id}/edit?notice=survey-saved")


@router.post("/surveys/{survey_id}/active", response_class=HTMLResponse)
async def toggle_survey(
    ctx: WriteConsole,
    session: SessionDep,
    survey_id: SurveyId,
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Turn a survey on (its trigger sends it) or off (nothing sends it, campaigns stop)."""
    if active not in ("true", "false"):
        raise BadRequest("Say whether the survey is on (true) or off (false).")
    workspace_id = ctx.principal.workspace_id
    change = SurveyUpdate(active=active == "true")
    survey = await feedback.update_survey(session, workspace_id, survey_id, change)
    if ctx.request.headers.get("HX-Request") == "true":
        summaries = await feedback.summaries(session, workspace_id, await _seen(session, ctx))
        return page(
            ctx,
            "surveys/_row.html",
            survey=survey,
            summary=summaries.get(survey.id),
            kind_labels=KIND_LABELS,
            triggers=TRIGGER_LABELS,
            channel_labels=CHANNEL_LABELS,
            show_scores=ctx.can(Scope.reports_read),
        )
    return see_other(ctx.request, "/console/surveys")


@router.post("/surveys/{survey_id}/delete")
async def delete_survey(ctx: WriteConsole, session: SessionDep, survey_id: SurveyId) -> Response:
    """Delete a survey; its responses stay (and keep counting in the metrics)."""
    await feedback.delete_survey(session, ctx.principal.workspace_id, survey_id)
    return see_other(ctx.request, "/console/surveys?notice=survey-deleted")


@router.get("/surveys/{survey_id}/preview", response_class=HTMLResponse)
async def preview_survey(ctx: ReadConsole, session: SessionDep, survey_id: SurveyId) -> Response:
    """Show the survey page exactly as a customer's link opens it (answers are not sent)."""
    survey = await _survey(session, ctx, survey_id)
    values = {
        "survey": survey,
        "questions": survey.questions,
        "path": f"/console/surveys/{survey.id}/edit",
        "csrf_token": "",
        "error": None,
        "preview": True,
    }
    return bare_page(ctx.request, "feedback/survey.html", values, headers=PREVIEW_HEADERS)


@router.post("/survey-preview", response_class=HTMLResponse)
async def preview_draft(ctx: WriteConsole) -> Response:
    """Draw the questions of the form being edited as the survey page will (HTMX)."""
    draft = from_form(await _form(ctx.request))
    questions: list[Question] = []
    error: RapportError | None = None
    try:
        questions = draft.questions_preview()
    except RapportError as refused:
        error = refused
    return page(ctx, "surveys/_preview.html", questions=questions, error=error)


@router.post("/survey-editor", response_class=HTMLResponse)
async def redraw_questions(
    ctx: WriteConsole, add: Annotated[int, Query(ge=0, le=1)] = 0
) -> Response:
    """Draw the editor's questions again (a type changed), with one more empty question
    when asked (HTMX)."""
    draft = from_form(await _form(ctx.request))
    trailing = len(draft.question_slots(0)) - len([q for q in draft.questions if not q.blank])
    return page(ctx, "surveys/_questions.html", extra=trailing + add or 1, **_survey_values(draft))


def _campaign_body(
    has_orders: str, seen_since: str, consent: str, ctx: ConsoleContext
) -> CampaignCreate:
    since = None
    if seen_since.strip():
        try:
            day = date.fromisoformat(seen_since.strip())
        except ValueError:
            raise UnprocessableContent("Seen since is a date, such as 2026-11-01.") from None
        since = datetime.combine(day, time(), zone_named(ctx.workspace.time_zone))
    purpose = None
    if consent.strip():
        try:
            purpose = ConsentPurpose(consent.strip())
        except ValueError:
            raise UnprocessableContent("Choose a consent from the list.") from None
    return CampaignCreate(has_orders=has_orders == "true", seen_since=since, consent=purpose)


CampaignField = Annotated[str, Query(max_length=40)]


@router.get("/surveys/{survey_id}/campaign", response_class=HTMLResponse)
async def campaign_form(
    ctx: WriteConsole,
    session: SessionDep,
    survey_id: SurveyId,
    has_orders: CampaignField = "",
    seen_since: CampaignField = "",
    consent: CampaignField = "",
    started: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Choose the customers of a campaign; the page counts them before anything is sent."""
    survey = await _survey(session, ctx, survey_id)
    body = _campaign_body(has_orders, seen_since, consent, ctx)
    matching = await count_matching(session, ctx.principal.workspace_id, body)
    template = "surveys/_count.html" if ctx.request.headers.get("HX-Request") else None
    values: dict[str, Any] = {
        "survey": survey,
        "matching": matching,
        "has_orders": has_orders == "true",
        "seen_since": seen_since.strip(),
        "consent": consent.strip(),
        "consents": [str(purpose) for purpose in ConsentPurpose],
        "started": started,
    }
    return page(ctx, template or "surveys/campaign.html", **values)


@router.post("/surveys/{survey_id}/campaign")
async def launch_campaign(
    ctx: WriteConsole,
    session: SessionDep,
    survey_id: SurveyId,
    has_orders: Annotated[str, Form(max_length=40)] = "",
    seen_since: Annotated[str, Form(max_length=40)] = "",
    consent: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Send the survey to every matching customer, in batches (throttle and consent apply)."""
    body = _campaign_body(has_orders, seen_since, consent, ctx)
    started = await start_campaign(session, ctx.principal.workspace_id, survey_id, body)
    return see_other(
        ctx.request, f"/console/surveys/{survey_id}/campaign?started={started.matching}"
    )


class ResponseFilters:
    """The responses page's filters, read from its query string."""

    def __init__(
        self,
        score_min: Annotated[str, Query(max_length=3)] = "",
        score_max: Annotated[str, Query(max_length=3)] = "",
        channel: Annotated[str, Query(max_length=16)] = "",
        sentiment: Annotated[str, Query(max_length=16)] = "",
        topic: Annotated[str, Query(max_length=40)] = "",
        comment: Annotated[str, Query(max_length=5)] = "",
        date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
        date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    ) -> None:
        self.values = {
            "score_min": score_min.strip(),
            "score_max": score_max.strip(),
            "channel": channel.strip(),
            "sentiment": sentiment.strip(),
            "topic": topic.strip(),
            "comment": comment.strip(),
            "from": date_from.strip(),
            "to": date_to.strip(),
        }

    def query(self, ctx: ConsoleContext, visibility: Visibility) -> ResponseQuery:
        """Return the responses query, limited to what the viewer may see (their teams' if
        they are limited to them); a readable 422 for a value that does not fit."""
        values = self.values
        zone = zone_named(ctx.workspace.time_zone)
        start = _day(values["from"], "From")
        end = _day(values["to"], "To")
        if values["channel"] and values["channel"] not in {str(c) for c in DeliveryChannel}:
            raise UnprocessableContent("Choose a channel from the list.")
        try:
            return ResponseQuery(
                min_score=_score(values["score_min"], "The lowest score"),
                max_score=_score(values["score_max"], "The highest score"),
                channel=values["channel"] or None,
                sentiment=values["sentiment"] or None,
                topic=values["topic"] or None,
                with_comment=values["comment"] == "yes",
                start=None if start is None else datetime.combine(start, time(), zone),
                end=None
                if end is None
                else datetime.combine(end + timedelta(days=1), time(), zone),
                within_team_ids=visibility.team_ids,
                staff_id=visibility.staff_id,
            )
        except ValueError as invalid:
            raise UnprocessableContent(f"{str(invalid)[:1].upper()}{str(invalid)[1:]}.") from None

    def link(self, **changes: str) -> str:
        """Return the query string of these filters with `changes`."""
        merged = {**self.values, **changes}
        return urlencode({key: value for key, value in merged.items() if value})


def _score(value: str, what: str) -> int | None:
    if not value:
        return None
    if not value.isascii() or not value.isdigit():
        raise UnprocessableContent(f"{what} is a whole number.")
    return int(value)


def _day(value: str, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UnprocessableContent(f"{what} is a date, such as 2026-11-01.") from None


Filters = Annotated[ResponseFilters, Depends()]


async def _visibility(session: AsyncSession, ctx: ConsoleContext) -> Visibility:
    principal = ctx.principal
    return await teams.visibility(session, principal.workspace_id, principal.actor_id)


async def _seen(session: AsyncSession, ctx: ConsoleContext) -> ResponseQuery:
    """Return the responses this viewer may see (their teams' when limited to them): the
    survey list's counts and recent scores count only those."""
    visibility = await _visibility(session, ctx)
    return ResponseQuery(within_team_ids=visibility.team_ids, staff_id=visibility.staff_id)


async def _query(
    session: AsyncSession, ctx: ConsoleContext, filters: ResponseFilters
) -> ResponseQuery:
    """Return the filters' responses query for this viewer."""
    return filters.query(ctx, await _visibility(session, ctx))


async def _names(
    session: AsyncSession, workspace_id: str, responses: list[ResponseRead]
) -> dict[str, str]:
    """Return the display names of the responses' customers."""
    ids = list(dict.fromkeys(r.customer_id for r in responses if r.customer_id is not None))
    if not ids:
        return {}
    found = await listing.found(session, workspace_id, ids)
    return {item.id: item.display_name or item.email or "Customer" for item in found}


@router.get("/surveys/{survey_id}/responses", response_class=HTMLResponse)
async def list_responses(
    ctx: ReportConsole,
    session: SessionDep,
    survey_id: SurveyId,
    filters: Filters,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    """List a survey's responses newest first, filtered, by keyset pages."""
    workspace_id = ctx.principal.workspace_id
    survey = await _survey(session, ctx, survey_id)
    found = await feedback.survey_responses(
        session,
        workspace_id,
        survey.id,
        await _query(session, ctx, filters),
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    return page(
        ctx,
        "surveys/responses.html",
        survey=survey,
        responses=found.items,
        next_cursor=found.next_cursor,
        names=await _names(session, workspace_id, found.items),
        filters=filters,
        values=filters.values,
        sentiments=SENTIMENTS,
        topics=list(TOPICS),
        channels=channel_options(),
        score_range=SCORE_RANGES.get(str(survey.kind)),
        kind_labels=KIND_LABELS,
        can_see_conversations=ctx.can(Scope.conversations_read),
    )


CSV_HEADER = [
    "answered_at",
    "score",
    "comment",
    "sentiment",
    "sentiment_score",
    "topics",
    "channel",
    "customer_id",
    "conversation_id",
    "response_id",
]


def _cell(value: object) -> str:
    """Return a CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(response: ResponseRead) -> list[str]:
    values: list[object] = [
        response.answered_at.isoformat(),
        response.score,
        response.comment,
        response.sentiment_label,
        response.sentiment_score,
        ";".join(response.topics),
        response.channel,
        response.customer_id,
        response.conversation_id,
        response.id,
    ]
    return [_cell(value) for value in values]


@router.get("/surveys/{survey_id}/responses.csv")
async def export_responses(
    ctx: ReportConsole,
    session: SessionDep,
    survey_id: SurveyId,
    filters: Filters,
) -> Response:
    """Export every response the filters match as CSV (newest first)."""
    workspace_id = ctx.principal.workspace_id
    survey = await _survey(session, ctx, survey_id)
    query = await _query(session, ctx, filters)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    cursor: str | None = None
    while True:
        found: Page[ResponseRead] = await feedback.survey_responses(
            session, workspace_id, survey.id, query, limit=EXPORT_PAGE, cursor=cursor
        )
        writer.writerows(_csv_row(response) for response in found.items)
        if found.next_cursor is None:
            break
        cursor = found.next_cursor
    filename = f"survey-{survey.id}-responses.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
