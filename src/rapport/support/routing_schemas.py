"""Routing, business calendar and SLA API shapes."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from rapport.core.schemas import ReadModel
from rapport.support.calendars import MINUTES_PER_DAY, check_weekly
from rapport.support.enums import (
    AgentAvailability,
    Channel,
    Priority,
    RoutingMode,
    SlaEventKind,
    SlaTarget,
)
from rapport.support.schemas import NO_CONTROL, Language

Skill = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=NO_CONTROL)
]
Skills = Annotated[list[Skill], Field(max_length=20)]
Languages = Annotated[list[Language], Field(max_length=20)]
WallTime = Annotated[str, StringConstraints(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
BusinessMinutes = Annotated[int, Field(ge=1, le=525_600)]


class Weekday(enum.StrEnum):
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"


class RoutingSettingsUpdate(BaseModel):
    enabled: bool = Field(description="Assign new, reopened and unassigned conversations.")
    mode: RoutingMode = Field(
        default=RoutingMode.round_robin,
        description="`round_robin`: the agent assigned longest ago; `least_loaded`: the "
        "agent holding the fewest open conversations.",
    )


class RoutingSettingsRead(BaseModel):
    enabled: bool = Field(description="Whether conversations are assigned automatically.")
    mode: RoutingMode = Field(description="round_robin or least_loaded.")


class AgentRoutingUpdate(BaseModel):
    capacity: int = Field(
        default=5, ge=0, le=100, description="Most open or snoozed conversations at once."
    )
    skills: Skills = Field(default_factory=list, description="Skills a conversation may need.")
    languages: Languages = Field(
        default_factory=list, description="Languages spoken (ISO 639-1 codes such as `fr`)."
    )


class AvailabilityUpdate(BaseModel):
    availability: AgentAvailability = Field(description="`online` takes new conversations.")


class AgentRoutingRead(BaseModel):
    staff_id: str = Field(description="Staff member id.")
    availability: AgentAvailability = Field(description="online or away.")
    capacity: int = Field(description="Most open or snoozed conversations at once.")
    skills: list[str] = Field(description="Skills.")
    languages: list[str] = Field(description="Languages spoken.")
    load: int = Field(description="Open or snoozed conversations assigned now.")
    last_assigned_at: datetime | None = Field(description="When routing last assigned one.")


class HoursSpan(BaseModel):
    start: WallTime = Field(description="Opening, local wall time `HH:MM`.")
    end: WallTime = Field(description="Closing, local wall time `HH:MM` (`24:00` is midnight).")

    def minutes(self) -> tuple[int, int]:
        """Return the span as minutes after local midnight."""
        return _minutes(self.start), _minutes(self.end)


class CalendarUpdate(BaseModel):
    weekly_hours: dict[Weekday, Annotated[list[HoursSpan], Field(max_length=12)]] = Field(
        description="Opening hours per weekday (a day left out is closed), in the "
        "workspace's time zone."
    )
    holidays: list[date] = Field(
        default_factory=list, max_length=400, description="Closed days (YYYY-MM-DD)."
    )

    @model_validator(mode="after")
    def sensible_hours(self) -> CalendarUpdate:
        """Refuse overlapping, reversed or empty weekly hours."""
        check_weekly(self.weekly())
        return self

    def weekly(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Return the hours as seven days of minute intervals, Monday first."""
        return tuple(
            tuple(sorted(span.minutes() for span in self.weekly_hours.get(day, [])))
            for day in Weekday
        )


class CalendarRead(CalendarUpdate):
    time_zone: str = Field(description="The workspace's time zone the hours are read in.")
    always_open: bool = Field(description="No calendar set: business time is all the time.")


class SlaPolicyCreate(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=NO_CONTROL,
        description="Unique name. A policy without targets exempts what it matches.",
    )
    position: int = Field(
        default=0, ge=0, le=10_000, description="Matching policies apply lowest position first."
    )
    priorities: list[Priority] = Field(
        default_factory=list, max_length=4, description="Only these priorities (empty: any)."
    )
    channels: list[Channel] = Field(
        default_factory=list, max_length=6, description="Only these channels (empty: any)."
    )
    first_response_minutes: BusinessMinutes | None = Field(
        default=None, description="First human reply within this many business minutes."
    )
    next_response_minutes: BusinessMinutes | None = Field(
        default=None, description="Each later reply to a waiting customer within this many."
    )
    resolution_minutes: BusinessMinutes | None = Field(
        default=None, description="Each open->resolved cycle within this many."
    )
    warn_before_minutes: int = Field(
        default=15, ge=0, le=10_080, description="Warn this many business minutes before."
    )

    @field_validator("name")
    @classmethod
    def not_blank(cls, value: str) -> str:
        """Refuse a name of spaces only."""
        if not value.strip():
            raise ValueError("a policy needs a name")
        return value.strip()


class SlaPolicyRead(SlaPolicyCreate, ReadModel):
    id: str = Field(description="Policy id.")


class SlaEventRead(ReadModel):
    id: str = Field(description="Event id.")
    conversation_id: str = Field(description="The conversation.")
    policy_id: str = Field(description="The policy whose target it was.")
    target: SlaTarget = Field(description="first_response, next_response or resolution.")
    kind: SlaEventKind = Field(description="warning (about to be missed) or breach (missed).")
    due_at: datetime = Field(description="The deadline.")
    created_at: datetime = Field(description="When it was recorded.")


def _minutes(wall_time: str) -> int:
    hours, minutes = wall_time.split(":")
    return min(MINUTES_PER_DAY, int(hours) * 60 + int(minutes))
