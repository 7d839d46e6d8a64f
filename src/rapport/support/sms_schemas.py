"""SMS channel API shapes: the workspace's Twilio settings, an SMS record, a webhook form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

AccountSid = Annotated[str, StringConstraints(pattern=r"^AC[0-9a-fA-F]{32}$")]
ServiceSid = Annotated[str, StringConstraints(pattern=r"^MG[0-9a-fA-F]{32}$")]
PhoneNumber = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
AuthToken = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{16,64}$")]


class SmsSettingsUpdate(BaseModel):
    account_sid: AccountSid = Field(description="Your Twilio Account SID (AC...).")
    auth_token: AuthToken = Field(
        description="Your Twilio auth token: signs Twilio's webhooks and authenticates sends. "
        "Stored sealed, never shown again."
    )
    from_number: PhoneNumber | None = Field(
        default=None, description="The number replies are sent from (E.164, +14155550100)."
    )
    messaging_service_sid: ServiceSid | None = Field(
        default=None, description="A Messaging Service (MG...) to send from instead."
    )

    @model_validator(mode="after")
    def _has_sender(self) -> SmsSettingsUpdate:
        if self.from_number is None and self.messaging_service_sid is None:
            raise ValueError("give from_number or messaging_service_sid")
        return self


class SmsSettingsRead(BaseModel):
    account_sid: str = Field(description="The Twilio Account SID.")
    from_number: str | None = Field(description="The number replies are sent from.")
    messaging_service_sid: str | None = Field(description="The Messaging Service sending.")
    auth_token_set: bool = Field(description="An auth token is stored (it is never shown).")
    inbound_url: str = Field(description="Set as the number's 'A message comes in' webhook.")
    status_callback_url: str = Field(description="Where Twilio reports replies' delivery.")


class SmsRecordRead(BaseModel):
    message_id: str = Field(description="The conversation message.")
    direction: str = Field(description="inbound (from the customer) or outbound.")
    message_sid: str | None = Field(description="Twilio's MessageSid, once known.")
    phone: str = Field(description="The customer's number.")
    status: str = Field(description="received, queued, sent, delivered, undelivered, failed.")
    attempts: int = Field(description="Send attempts made (outbound).")
    last_error: str | None = Field(description="Why the last attempt or delivery failed.")
    media: list[dict[str, str]] = Field(description="MMS media links: url, content_type.")
    updated_at: datetime = Field(description="When the record last changed.")


class SmsReceived(BaseModel):
    conversation_id: str = Field(description="The conversation the text joined or opened.")
    message_id: str = Field(description="The message it became.")
    duplicate: bool = Field(description="Twilio retried a text already received.")


@dataclass(frozen=True)
class InboundText:
    """A Twilio inbound-message webhook's fields Rapport keeps."""

    message_sid: str
    sender: str
    recipient: str
    body: str
    media: list[dict[str, str]]
