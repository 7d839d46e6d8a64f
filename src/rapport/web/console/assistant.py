"""Console: the assistant's settings per channel (on or off, name, hand-off rules), its
optional generative mode (endpoint, model, sealed API key), and its report (what it resolved,
what it handed off, why, and on which intents)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from rapport.analytics.assistant_report import UNRECORDED, assistant_report
from rapport.analytics.auth import metrics_viewer
from rapport.assistant.enums import HandoffReason
from rapport.assistant.generative import generative
from rapport.assistant.schemas import AssistantSettingsUpdate, GenerativeSettingsUpdate
from rapport.assistant.service import assistant
from rapport.core.deps import SessionDep
from rapport.errors import UnprocessableContent
from rapport.identity.audit import Actor
from rapport.identity.enums import Scope
from rapport.support.enums import TAKEN_OVER, Channel
from rapport.web.console.context import ConsoleContext, console_requiring
from rapport.web.console.dashboard_data import PRESETS, Chart, read_period
from rapport.web.console.home import start_of_today
from rapport.web.console.routing import AnyIsNone, FormText, console_router, see_other
from rapport.web.console.templating import page, zone_named

router = console_router()
ReadConsole = Annotated[ConsoleContext, console_requiring(Scope.conversations_read)]
AssignConsole = Annotated[ConsoleContext, console_requiring(Scope.conversations_assign)]
AdminConsole = Annotated[ConsoleContext, console_requiring(Scope.workspace_write)]
MetricsConsole = Annotated[ConsoleContext, console_requiring(Scope.metrics_read)]
ChannelName = Annotated[Channel, Path()]
# What each hand-off reason means to the people reading the report.
REASONS = {
    HandoffReason.no_answer: "Understood, but no article or task covers it",
    HandoffReason.low_confidence: "Not understood, even after asking once",
    HandoffReason.out_of_scope: "Not something it handles (or switched off)",
    HandoffReason.asked_for_human: "The customer asked for a person",
    HandoffReason.negative_sentiment: "The customer was upset",
    HandoffReason.vip_customer: "A VIP customer",
    HandoffReason.complaint: "A complaint",
    HandoffReason.action_failed: "An order action failed",
    HandoffReason.not_verified: "The order could not be verified as theirs",
    HandoffReason.custom_intent: "A custom intent hands off",
    TAKEN_OVER: "A person or an integration took it over",
    UNRECORDED: "Not recorded (handed off before reasons were kept)",
}
REPORT_DEFINITION = (
    "Per day: conversations the assistant resolved without people, and those it gave to "
    "people or people took from it."
)


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


@router.get("/assistant-report", response_class=HTMLResponse)
async def show_assistant_report(
    ctx: MetricsConsole,
    session: SessionDep,
    days: Annotated[str | None, Query(max_length=4)] = None,
    channel: Annotated[Channel | None, AnyIsNone, Query()] = None,
) -> Response:
    """Show what the assistant resolved and handed off in the last 7, 30 or 90 days, why it
    handed off, and the intents it could not answer (what to write articles for)."""
    viewer = await metrics_viewer(ctx.principal, session)
    viewer.whole_workspace()
    today = start_of_today(ctx.workspace).astimezone(zone_named(ctx.workspace.time_zone)).date()
    period = read_period(today, days, None, None)
    report = await assistant_report(
        session, ctx.principal.workspace_id, first_day=period.first_day,
        end_day=period.end_day, channel=channel,
    )  # fmt: skip
    chart = Chart(
        "assistant-days", "Resolved alone and handed off", REPORT_DEFINITION, "bar",
        "conversations", "day", [point.day.isoformat() for point in report.days],
        [
            ("Resolved alone", [point.resolved_alone for point in report.days]),
            ("Handed off", [point.handed_off for point in report.days]),
        ],
    )  # fmt: skip
    return page(
        ctx, "assistant/report.html", report=report, chart=chart, period=period,
        presets=PRESETS, channel=channel or "", channels=list(Channel), reasons=REASONS,
    )  # fmt: skip
