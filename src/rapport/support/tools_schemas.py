"""Agent tools' API shapes: canned responses, macros and their actions, saved views."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from rapport.core.schemas import ReadModel
from rapport.support.enums import Channel, ConversationStatus, Priority
from rapport.support.schemas import (
    ID_PATTERN,
    INTENT_PATTERN,
    NO_CONTROL,
    Body,
    SentimentLabel,
    Tag,
)

Shortcut = Annotated[
    str, StringConstraints(to_lower=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$")
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_CONTROL),
]
Ref = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Shared = Annotated[
    bool, Field(description="Shared with the workspace (supervisors and up) or yours alone.")
]


class CannedResponseWrite(BaseModel):
    shortcut: Shortcut = Field(description="Typed after `/` in the composer (a-z, 0-9, - _).")
    title: Name = Field(description="What the picker shows.")
    body: Body = Field(
        description="The text; `{{customer.first_name}}`, `{{agent.name}}`, ... are filled when "
        "it is used, `{{name|fallback}}` when a value is missing."
    )
    shared: Shared = False


class CannedResponseRead(ReadModel):
    id: str = Field(description="Canned response id.")
    shortcut: str = Field(description="Typed after `/` in the composer.")
    title: str = Field(description="What the picker shows.")
    body: str = Field(description="The text with its `{{variables}}`.")
    owner_id: str | None = Field(description="Its owner; null when shared.")
    created_at: datetime = Field(description="When it was made.")


class RenderedResponse(BaseModel):
    id: str = Field(description="Canned response id.")
    text: str = Field(description="The body with its variables filled for the conversation.")


class ReplyAction(BaseModel):
    type: Literal["reply"] = Field(description="Send a canned response as a public reply.")
    canned_response_id: Ref = Field(description="The canned response to send.")


class NoteAction(BaseModel):
    type: Literal["note"] = Field(description="Leave a private note.")
    body: Body = Field(description="The note's text.")


class TagsAction(BaseModel):
    type: Literal["add_tags", "remove_tags"] = Field(description="Add or remove tags.")
    tags: Annotated[list[Tag], Field(min_length=1, max_length=20)] = Field(description="Tags.")


class PriorityAction(BaseModel):
    type: Literal["set_priority"] = Field(description="Set the priority by hand.")
    priority: Priority = Field(description="The priority.")


class StatusAction(BaseModel):
    type: Literal["set_status"] = Field(description="Change the status (not snoozing).")
    status: ConversationStatus = Field(description="open, pending, resolved or closed.")

    @field_validator("status")
    @classmethod
    def not_snoozed(cls, value: ConversationStatus) -> ConversationStatus:
        """Refuse snoozing, which needs a time of its own."""
        if value == ConversationStatus.snoozed:
            raise ValueError("a macro cannot snooze")
        return value


class AssignAction(BaseModel):
    type: Literal["assign"] = Field(description="Assign to an agent and/or route to a team.")
    assignee_id: Ref | Literal["me"] | None = Field(
        default=None, description="Staff id, `me` (whoever applies it) or null (nobody)."
    )
    team_id: Ref | None = Field(default=None, description="Team id or null (no team).")

    @model_validator(mode="after")
    def says_something(self) -> AssignAction:
        """Refuse an assignment that changes nothing."""
        if not self.model_fields_set & {"assignee_id", "team_id"}:
            raise ValueError("an assignment names an assignee_id, a team_id or both")
        return self


MacroAction = Annotated[
    StatusAction | PriorityAction | TagsAction | NoteAction | ReplyAction | AssignAction,
    Field(discriminator="type"),
]


class MacroWrite(BaseModel):
    name: Name = Field(description="What the conversation page's button says.")
    actions: Annotated[list[MacroAction], Field(min_length=1, max_length=20)] = Field(
        description="Applied in order; assignments last, so the others are done while the "
        "conversation is still yours to see."
    )
    shared: Shared = False


class MacroRead(ReadModel):
    id: str = Field(description="Macro id.")
    name: str = Field(description="Its name.")
    actions: list[dict[str, Any]] = Field(description="Its actions, in the order given.")
    owner_id: str | None = Field(description="Its owner; null when shared.")
    created_at: datetime = Field(description="When it was made.")


class ViewFilters(BaseModel):
    status: ConversationStatus | None = Field(default=None, description="Only this status.")
    priority: Priority | None = Field(default=None, description="Only this priority.")
    channel: Channel | None = Field(default=None, description="Only this channel.")
    team_id: Ref | None = Field(default=None, description="Only this team's.")
    assignee: Ref | Literal["me", "unassigned"] | None = Field(
        default=None, description="A staff id, `me` (whoever looks) or `unassigned`."
    )
    tag: Tag | None = Field(default=None, description="Only those with this tag.")
    sentiment: SentimentLabel | None = Field(
        default=None, description="Only those whose customer's latest mood reads so."
    )
    intent: str | None = Field(
        default=None,
        pattern=INTENT_PATTERN,
        description="Only those with this intent (the latest request understood).",
    )


class SavedViewWrite(BaseModel):
    name: Name = Field(description="What the inbox sidebar shows.")
    filters: ViewFilters = Field(description="Every given condition must hold.")
    shared: Shared = False


class SavedViewRead(BaseModel):
    id: str = Field(description="Saved view id.")
    name: str = Field(description="Its name.")
    filters: ViewFilters = Field(description="Its conditions.")
    owner_id: str | None = Field(description="Its owner; null when shared.")
    count: int = Field(description="Conversations it shows you now (counted up to 1,000).")
    more: bool = Field(description="More than `count` match.")
