"""What the metrics API, the CLI and the dashboard read: one flat object of figures.

Rates are percentages 0-100 (floats, unrounded); times are seconds; null means no data."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

Bucket = Literal["day"]
BreakdownBy = Literal["channel", "team", "agent"]
STATISTICS = {"mean": "Mean", "p50": "Median (p50)", "p90": "90th percentile (p90)"}


def _seconds(statistic: str, what: str, *, business: bool = False) -> Any:
    hours = " counted in business hours only" if business else ""
    return Field(
        default=None,
        description=f"{STATISTICS[statistic]} {what} time in seconds{hours} (docs/metrics.md).",
    )


def _rate(what: str) -> Any:
    return Field(default=None, description=f"{what}, a percentage 0-100 (null: no data).")


def _count(what: str) -> Any:
    return Field(default=0, description=what)


class MetricsSummary(BaseModel):
    """Every metric of one window (or one bucket of it), as docs/metrics.md defines them."""

    from_date: date = Field(alias="from", description="First local day of the window.")
    to_date: date = Field(alias="to", description="Local day the window ends before.")
    time_zone: str = Field(description="The workspace time zone the days are read in.")
    inactivity_days: int = Field(description="Days after their last order a customer is active.")
    nps: float | None = Field(default=None, description="% of NPS scores 9-10 minus % 0-6.")
    nps_responses: int = _count("NPS responses answered in the window.")
    csat: float | None = _rate("CSAT: responses scored 4-5 / all CSAT responses x 100")
    csat_responses: int = _count("CSAT responses answered in the window.")
    ces: float | None = Field(default=None, description="Mean CES score (1-7).")
    ces_responses: int = _count("CES responses answered in the window.")
    retention_rate: float | None = _rate("(E - N) / S x 100")
    churn_rate: float | None = _rate("Customers active at from and not at to / S x 100")
    repeat_purchase_rate: float | None = _rate("Customers with 2+ orders / with 1+ x 100")
    customers_active_at_start: int = _count("S: customers active at `from`.")
    customers_active_at_end: int = _count("E: customers active at `to`.")
    new_customers_active_at_end: int = _count("N: first order in the window, active at `to`.")
    churned_customers: int = _count("Customers active at `from` and not at `to`.")
    repeat_customers: int = _count("Customers with 2 or more orders in the window.")
    buying_customers: int = _count("Customers with 1 or more orders in the window.")
    first_response_seconds_mean: float | None = _seconds("mean", "first response")
    first_response_seconds_p50: float | None = _seconds("p50", "first response")
    first_response_seconds_p90: float | None = _seconds("p90", "first response")
    first_response_business_seconds_mean: float | None = _seconds(
        "mean", "first response", business=True
    )
    first_response_business_seconds_p50: float | None = _seconds(
        "p50", "first response", business=True
    )
    first_response_business_seconds_p90: float | None = _seconds(
        "p90", "first response", business=True
    )
    next_reply_seconds_mean: float | None = _seconds("mean", "next reply")
    next_reply_seconds_p50: float | None = _seconds("p50", "next reply")
    next_reply_seconds_p90: float | None = _seconds("p90", "next reply")
    next_reply_business_seconds_mean: float | None = _seconds("mean", "next reply", business=True)
    next_reply_business_seconds_p50: float | None = _seconds("p50", "next reply", business=True)
    next_reply_business_seconds_p90: float | None = _seconds("p90", "next reply", business=True)
    resolution_seconds_mean: float | None = _seconds("mean", "resolution")
    resolution_seconds_p50: float | None = _seconds("p50", "resolution")
    resolution_seconds_p90: float | None = _seconds("p90", "resolution")
    resolution_business_seconds_mean: float | None = _seconds("mean", "resolution", business=True)
    resolution_business_seconds_p50: float | None = _seconds("p50", "resolution", business=True)
    resolution_business_seconds_p90: float | None = _seconds("p90", "resolution", business=True)
    handle_seconds_mean: float | None = _seconds("mean", "handle")
    handle_seconds_p50: float | None = _seconds("p50", "handle")
    handle_seconds_p90: float | None = _seconds("p90", "handle")
    handle_business_seconds_mean: float | None = _seconds("mean", "handle", business=True)
    handle_business_seconds_p50: float | None = _seconds("p50", "handle", business=True)
    handle_business_seconds_p90: float | None = _seconds("p90", "handle", business=True)
    first_response_count: int = _count("First responses in the window.")
    next_reply_count: int = _count("Next replies in the window.")
    handled_conversations: int = _count("Conversations with handle time in the window.")
    resolutions: int = _count("Open->resolved cycles that ended in the window.")
    first_level_resolutions: int = _count("Resolutions that were first-level.")
    first_level_resolution_rate: float | None = _rate("First-level resolutions / resolutions")
    reopened_resolutions: int = _count("Resolutions in the window reopened since.")
    reopen_rate: float | None = _rate("Resolutions reopened since / resolutions")
    abandoned_chats: int = _count("Chat cycles that ended with no answer.")
    ended_chats: int = _count("Chat cycles that ended (resolved or closed).")
    abandoned_rate: float | None = _rate("Abandoned chats / ended chats")
    assistant_resolutions: int = _count("Conversations the assistant resolved alone.")
    handoffs: int = _count("Hand-offs from the assistant to people.")
    containment_rate: float | None = _rate("Assistant resolutions / (those + hand-offs)")
    automation_rate: float | None = _rate("Assistant resolutions / all resolutions")
    escalations: int = _count("Passes from one agent or team to another.")
    volume: int = _count("Conversations created in the window.")
    backlog: int = _count("Conversations not finished at the end of the window.")

    model_config = {"populate_by_name": True}

    def flat(self) -> dict[str, Any]:
        """Return the figures as JSON-ready values keyed as the CLI prints them."""
        return self.model_dump(mode="json", by_alias=True)


class MetricsPoint(BaseModel):
    """One bucket of a series: its first day and its figures."""

    day: date = Field(description="The bucket's local day.")
    metrics: MetricsSummary = Field(description="The figures of that day.")


class MetricsSeries(BaseModel):
    bucket: Bucket = Field(description="How the window is cut (day).")
    points: list[MetricsPoint] = Field(description="One point per bucket, oldest first.")


class MetricsGroup(BaseModel):
    """The figures of one channel, team or agent (orders are not attributed: null)."""

    key: str = Field(description="Channel name, team id or staff id.")
    metrics: MetricsSummary = Field(description="The figures of that group.")


class MetricsBreakdown(BaseModel):
    by: BreakdownBy = Field(description="What the groups are.")
    groups: list[MetricsGroup] = Field(description="One entry per group with data.")


class AssistantReason(BaseModel):
    """Why the assistant gave conversations to people, and how often in the window."""

    reason: str = Field(
        description="The assistant's reason (`no_answer`, `asked_for_human`, ...; docs/"
        "assistant.md), `taken_over` when a person or an integration took a conversation it "
        "held, `unrecorded` for the assistant's hand-offs recorded before reasons were."
    )
    handoffs: int = _count("Hand-offs for this reason.")
    gap: bool = Field(
        description="The assistant could not answer (`no_answer`, `low_confidence`, "
        "`out_of_scope`): an article or a custom intent would have let it."
    )


class AssistantIntent(BaseModel):
    """An intent the customer's last message had when the assistant handed off."""

    intent: str = Field(description="The intent stored on that message (a custom one's name).")
    handoffs: int = _count("Hand-offs with this intent in hand.")
    unanswered: int = _count("Of those, hand-offs because the assistant could not answer.")
    reasons: dict[str, int] = Field(description="Hand-offs by reason, most first.")


class AssistantDay(BaseModel):
    day: date = Field(description="A local day of the window.")
    resolved_alone: int = _count("Conversations the assistant resolved without people.")
    handed_off: int = _count("Conversations it gave to people.")


class AssistantReport(BaseModel):
    """What the assistant did in a window: the conversations it held, resolved alone or
    handed off, why, and on which intents."""

    from_date: date = Field(alias="from", description="First local day of the window.")
    to_date: date = Field(alias="to", description="Local day the window ends before.")
    time_zone: str = Field(description="The workspace time zone the days are read in.")
    channel: str | None = Field(description="The channel counted (null: every channel).")
    held: int = _count("Resolved alone + handed off.")
    resolved_alone: int = _count("Conversations the assistant resolved without people.")
    handed_off: int = _count("Conversations it gave to people, or people took from it.")
    containment_rate: float | None = _rate("Resolved alone / held x 100")
    reasons: list[AssistantReason] = Field(description="Hand-offs by reason, most first.")
    intents: list[AssistantIntent] = Field(
        description="The 20 intents with the most hand-offs the assistant could not answer "
        "(then the most hand-offs)."
    )
    days: list[AssistantDay] = Field(description="Every local day of the window, oldest first.")
