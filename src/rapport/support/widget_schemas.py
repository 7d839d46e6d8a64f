"""Chat widget shapes: starting a session, sending, reading, leaving an email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, EmailStr, Field, StringConstraints, field_validator

from rapport.support.enums import AuthorType
from rapport.support.schemas import ID_PATTERN, MAX_BODY, NO_CONTROL

ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{20,100}$")]


class WidgetStart(BaseModel):
    write_key: str = Field(max_length=100, description="The source's public write key.")
    visitor_token: Token | None = Field(
        default=None, description="The token this browser was given before, to carry on."
    )
    user_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=NO_CONTROL,
        description="A signed-in customer's user id in the shop (with `user_hash`).",
    )
    user_hash: str | None = Field(
        default=None,
        max_length=128,
        description="Hex HMAC-SHA256 of `user_id` with the source's identity secret, computed "
        "by the shop's server.",
    )


class WidgetSessionRead(BaseModel):
    visitor_token: str = Field(description="Keep it (the widget stores it) to carry on later.")
    conversation_id: str | None = Field(description="The visitor's current conversation.")
    last_seq: int = Field(description="The place of the conversation's last message.")
    agent_read_seq: int = Field(description="How far an agent has read.")
    agents_online: bool = Field(description="Whether someone is at the console now.")
    verified: bool = Field(description="Whether the visitor is a verified signed-in customer.")
    email_left: bool = Field(
        default=False, description="Whether the visitor left an email for replies they miss."
    )


class WidgetMessageCreate(BaseModel):
    client_id: ClientId = Field(
        description="An id the widget makes for the message; sending it again returns the "
        "stored message instead of a second one."
    )
    body: str = Field(min_length=1, max_length=MAX_BODY, description="The visitor's words.")
    conversation_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="The conversation to write in; none: the current one, or a new one.",
    )

    @field_validator("body")
    @classmethod
    def not_blank(cls, value: str) -> str:
        """Refuse a message of only spaces."""
        if not value.strip():
            raise ValueError("a message needs some text")
        return value


class QuickReply(BaseModel):
    label: str = Field(description="The button's text.")
    text: str = Field(description="What a tap sends, as if the customer had typed it.")


class WidgetMessageRead(BaseModel):
    seq: int = Field(description="Its place in the conversation (1, 2, 3, ...).")
    id: str = Field(description="Message id.")
    conversation_id: str = Field(description="The conversation it belongs to.")
    author_type: AuthorType = Field(description="customer, agent, assistant or system.")
    body: str = Field(description="The text (card numbers masked).")
    client_id: str | None = Field(description="The id the widget gave it (customer messages).")
    created_at: datetime = Field(description="When it was written.")
    quick_replies: list[QuickReply] = Field(
        default_factory=list,
        description="Buttons under the conversation's last message while it waits for one of "
        "these answers (the assistant's yes/no questions); empty otherwise.",
    )


class WidgetMessageList(BaseModel):
    conversation_id: str | None = Field(description="The conversation.")
    items: list[WidgetMessageRead] = Field(description="Messages after `after`, in order.")
    more: bool = Field(description="Whether more follow (ask again after the last seq).")


class WidgetRead(BaseModel):
    conversation_id: str = Field(pattern=ID_PATTERN, description="The conversation.")
    seq: int = Field(ge=0, le=2**31 - 1, description="The last message the visitor has seen.")


class WidgetEmail(BaseModel):
    email: EmailStr = Field(description="Where to send the reply.")

    @field_validator("email")
    @classmethod
    def _deliverable(cls, value: str) -> str:
        """Keep an address mail servers take: a plain-ASCII name, the domain in punycode
        ("kunde@müller.de" goes to "kunde@xn--mller-kva.de")."""
        name, _, domain = value.rpartition("@")
        if not name.isascii():
            raise ValueError("Use an address whose part before the @ has no accents.")
        try:
            return f"{name}@{domain.encode('idna').decode('ascii')}"
        except UnicodeError as error:
            raise ValueError("This email domain cannot be written for mail servers.") from error


@dataclass(frozen=True)
class Visitor:
    """An authenticated widget visitor."""

    id: str
    workspace_id: str
    source_id: str
    user_index: str | None
    customer_id: str | None = None  # the verified customer's profile, when there is one

    @property
    def actor(self) -> str:
        """Name the visitor in a conversation's history."""
        return f"visitor:{self.id}"


@dataclass(frozen=True)
class Sent:
    """A sent message, and whether it was stored now or found from an earlier send."""

    message: WidgetMessageRead
    duplicate: bool
