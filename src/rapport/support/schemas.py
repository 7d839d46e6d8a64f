"""Support API shapes: conversations, messages, teams and agents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from rapport.core.clock import as_utc
from rapport.core.schemas import ReadModel
from rapport.nlp.ports import SentimentLabel as SentimentLabel
from rapport.support.enums import (
    ApiChannel,
    AuthorType,
    Channel,
    ConversationStatus,
    MessageKind,
    Priority,
)

ID_PATTERN = r"^[0-9a-f]{32}$"
# An intent's name as the labels store it (built-in, the workspace's own, out_of_scope).
INTENT_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
MAX_BODY = 10_000
StaffId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=NO_CONTROL)
]
AttributeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
AttributeValue = (
    Annotated[str, StringConstraints(max_length=500, pattern=NO_CONTROL)]
    | Annotated[int, Field(ge=-(2**53), le=2**53)]
    | bool
    | None
)
Tags = Annotated[list[Tag], Field(max_length=20)]
Attributes = Annotated[dict[AttributeName, AttributeValue], Field(max_length=50)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY)]
Language = Annotated[
    str, StringConstraints(to_lower=True, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("a message needs some text")
    return value


class MessageCreate(BaseModel):
    kind: MessageKind = Field(
        description="`customer`: the customer's words (from your app, a marketplace, a logged "
        "call); `reply`: a public agent reply; `note`: a private note for colleagues."
    )
    body: Body = Field(description="The text; card numbers are masked before it is stored.")
    mentions: list[StaffId] = Field(
        default_factory=list,
        max_length=20,
        description="Staff ids @mentioned in a note (notes only).",
    )

    _body = field_validator("body")(_not_blank)


class ConversationCreate(BaseModel):
    channel: ApiChannel = Field(default=ApiChannel.api, description="Where it takes place.")
    customer_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="The customer's profile (360) id."
    )
    message: MessageCreate = Field(description="The first message.")
    status: ConversationStatus = Field(
        default=ConversationStatus.open,
        description="`open` (for agents) or `pending` (owned by the assistant).",
    )
    priority: Priority | None = Field(
        default=None, description="Set the priority yourself instead of scoring it."
    )
    team_id: str | None = Field(default=None, pattern=ID_PATTERN, description="Team to route to.")
    language: Language | None = Field(
        default=None, description="Language an agent must speak (ISO 639-1, such as `fr`)."
    )
    skills: Tags = Field(default_factory=list, description="Skills an agent must hold.")
    tags: Tags = Field(default_factory=list, description="Labels (up to 20).")
    attributes: Attributes = Field(
        default_factory=dict,
        description="Custom attributes (order number, store): names in snake_case, values "
        "text, whole numbers or booleans. Not sealed: keep personal data out.",
    )


class ConversationUpdate(BaseModel):
    status: ConversationStatus | None = Field(default=None, description="New status.")
    snoozed_until: datetime | None = Field(
        default=None, description="With status `snoozed`: when it opens again (future)."
    )
    priority: Priority | None = Field(
        default=None, description="Override the scored priority (the reason says who set it)."
    )
    tags: Tags | None = Field(default=None, description="Replace the tags.")
    attributes: Attributes | None = Field(default=None, description="Replace the attributes.")
    language: Language | Literal[""] | None = Field(
        default=None, description="Language an agent must speak; an empty string clears it."
    )
    skills: Tags | None = Field(default=None, description="Replace the skills an agent needs.")

    @field_validator("snoozed_until")
    @classmethod
    def in_utc(cls, value: datetime | None) -> datetime | None:
        """Read a time without a zone as UTC; refuse one that UTC cannot hold."""
        try:
            return None if value is None else as_utc(value)
        except OverflowError as error:
            raise ValueError("the time is out of range") from error


class AssignmentChange(BaseModel):
    assignee_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="Staff member to assign; null unassigns."
    )
    team_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="Team to route to; null removes it."
    )


class DetectedLabels(BaseModel):
    """What the assistant's models read in a customer message (on a conversation: what its
    customer's latest messages say: the language last told, the latest request understood,
    the latest mood of a message not a bare answer); null until the labelling job has run,
    and on other messages."""

    detected_language: str | None = Field(
        default=None, description="The language detected (ISO 639-1; `und`: none found)."
    )
    intent: str | None = Field(
        default=None,
        description="The intent detected: a built-in one, the workspace's own, or out_of_scope.",
    )
    intent_confidence: float | None = Field(
        default=None,
        description="How sure the intent is, 0-1 (a custom intent's: the similarity).",
    )
    sentiment: SentimentLabel | None = Field(
        default=None, description="negative, neutral or positive."
    )
    sentiment_score: float | None = Field(
        default=None, description="From -1 (most negative) to 1 (most positive)."
    )


class ConversationRead(DetectedLabels, ReadModel):
    id: str = Field(description="Conversation id.")
    channel: Channel = Field(description="Where it takes place.")
    status: ConversationStatus = Field(description="open, pending, snoozed, resolved, closed.")
    snoozed_until: datetime | None = Field(description="When a snoozed conversation reopens.")
    priority: Priority = Field(description="low, normal, high or urgent.")
    priority_reason: str = Field(description="Why it has this priority.")
    priority_overridden: bool = Field(description="Set by staff; no longer scored.")
    customer_id: str | None = Field(description="The customer's profile id.")
    assignee_id: str | None = Field(description="The assigned staff member.")
    team_id: str | None = Field(description="The team it is routed to.")
    tags: list[str] = Field(description="Labels.")
    attributes: dict[str, Any] = Field(description="Custom attributes.")
    merged_into_id: str | None = Field(description="The conversation this one was merged into.")
    language: str | None = Field(description="Language an agent must speak.")
    skills: list[str] = Field(description="Skills an agent must hold.")
    sla_policy_id: str | None = Field(description="The SLA policy that applies.")
    first_response_due_at: datetime | None = Field(description="First response deadline.")
    next_response_due_at: datetime | None = Field(description="Deadline of the waiting reply.")
    resolution_due_at: datetime | None = Field(description="Deadline of this cycle's resolution.")
    last_message_at: datetime | None = Field(description="Time of the latest message.")
    created_at: datetime = Field(description="When it started.")
    updated_at: datetime = Field(description="When it last changed.")


class ConversationPage(BaseModel):
    items: list[ConversationRead] = Field(description="Conversations, newest first.")
    next_cursor: str | None = Field(description="Cursor of the next page; null on the last.")


class MessageRead(DetectedLabels):
    id: str = Field(description="Message id.")
    conversation_id: str = Field(description="The conversation it belongs to.")
    author_type: AuthorType = Field(description="customer, agent, assistant or system.")
    author: str = Field(description="Who wrote it (`staff:<id>`, `customer:<id>`, ...).")
    private: bool = Field(description="A private note, never shown to the customer.")
    body: str = Field(description="The text (card numbers masked).")
    mentions: list[str] = Field(description="Staff ids @mentioned in a note.")
    created_at: datetime = Field(description="When it was written.")


class MessagePage(BaseModel):
    items: list[MessageRead] = Field(description="Messages, oldest first.")
    next_cursor: str | None = Field(description="Cursor of the next page; null on the last.")


class TeamCreate(BaseModel):
    name: str = Field(
        min_length=1, max_length=100, pattern=NO_CONTROL, description="Team name (unique)."
    )

    _name = field_validator("name")(_not_blank)


class TeamRead(BaseModel):
    id: str = Field(description="Team id.")
    name: str = Field(description="Team name.")
    member_ids: list[str] = Field(description="Staff ids of its members.")


class AgentUpdate(BaseModel):
    limited_to_teams: bool = Field(
        description="Sees and acts only on conversations of their teams or assigned to them."
    )


class AgentRead(BaseModel):
    staff_id: str = Field(description="Staff member id.")
    limited_to_teams: bool = Field(description="Limited to their teams' conversations.")
    team_ids: list[str] = Field(description="Teams they belong to.")


@dataclass(frozen=True)
class ConversationFilters:
    """Which conversations an inbox shows (every given condition must hold)."""

    status: ConversationStatus | None = None
    assignee_id: str | None = None
    team_id: str | None = None
    channel: Channel | None = None
    priority: Priority | None = None
    # The console's views: nobody assigned; routed to one of these teams; one customer's.
    unassigned: bool = False
    team_ids: tuple[str, ...] | None = None
    customer_id: str | None = None
    # Saved views: only conversations carrying this tag.
    tag: str | None = None
    # The conversation's sentiment or intent (the assistant's labels, support/assistant_desk).
    sentiment: str | None = None
    intent: str | None = None


@dataclass(frozen=True)
class Visibility:
    """Which conversations a caller may see: all, or (an agent limited to their teams) those
    of `team_ids` and those assigned to `staff_id`."""

    staff_id: str | None = None
    team_ids: tuple[str, ...] | None = None

    @property
    def limited(self) -> bool:
        """Tell whether the caller sees only some conversations."""
        return self.team_ids is not None


@dataclass(frozen=True)
class Acting:
    """Who acts: their name for history and authorship (`staff:<id>`, `api_key:<id>`) and,
    for a staff member, their id (team limits apply to them)."""

    actor: str
    staff_id: str | None = None

    @property
    def by_assistant(self) -> bool:
        """Tell whether the assistant acts."""
        return self.actor == ASSISTANT_ACTOR


ASSISTANT_ACTOR = "assistant"


class ActivityRead(ReadModel):
    id: str = Field(description="Activity id.")
    conversation_id: str = Field(description="The conversation it belongs to now.")
    kind: str = Field(description="created, status, priority, assignment, tags, merged, ...")
    actor: str = Field(description="Who made the change.")
    data: dict[str, Any] = Field(description="What changed.")
    created_at: datetime = Field(description="When it changed.")
