"""Email channel API shapes: settings, the inbound address, what an inbound email became."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

MAX_SIGNATURE = 2000


class EmailSettingsUpdate(BaseModel):
    signature: str = Field(
        max_length=MAX_SIGNATURE,
        description="Text put under every agent reply sent by email (after a `-- ` line).",
    )


class EmailSettingsRead(BaseModel):
    signature: str = Field(description="Text put under every agent reply sent by email.")
    inbound_address_set: bool = Field(description="An inbound webhook address exists.")


class InboundAddressRead(BaseModel):
    inbound_url: str = Field(
        description="Where your mail provider posts raw inbound emails (message/rfc822). "
        "Shown once; a new one replaces it."
    )


class InboundEmailRead(BaseModel):
    conversation_id: str = Field(description="The conversation the email joined or opened.")
    message_id: str = Field(description="The message it became.")
    duplicate: bool = Field(description="Already received (same Message-ID): nothing added.")


@dataclass(frozen=True)
class EmailRecordView:
    """A message's email side, its address and subject opened."""

    message_id: str
    direction: str
    header_message_id: str | None
    references: list[str]
    address: str
    subject: str
    attachments: list[dict[str, object]]
