"""Webhook API shapes: endpoints, their one-time secret, deliveries and attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from rapport.core.schemas import ReadModel
from rapport.webhooks.enums import WebhookEventType

MAX_URL = 2000


class WebhookEndpointCreate(BaseModel):
    url: str = Field(
        min_length=8,
        max_length=MAX_URL,
        description="Where events are POSTed: HTTPS to a public address.",
    )
    event_types: list[WebhookEventType] = Field(
        min_length=1, max_length=20, description="The events this endpoint receives."
    )
    description: str = Field(default="", max_length=200, description="A note for you.")
    enabled: bool = Field(default=True, description="Off: nothing is sent to it.")


class WebhookEndpointUpdate(BaseModel):
    url: str | None = Field(
        default=None, min_length=8, max_length=MAX_URL, description="A new URL."
    )
    event_types: list[WebhookEventType] | None = Field(
        default=None, min_length=1, max_length=20, description="The events it receives."
    )
    description: str | None = Field(default=None, max_length=200, description="A note for you.")
    enabled: bool | None = Field(default=None, description="Off: nothing is sent to it.")


class WebhookEndpointRead(ReadModel):
    id: str = Field(description="Endpoint id.")
    url: str = Field(description="Where events are POSTed.")
    description: str = Field(description="A note for you.")
    event_types: list[str] = Field(description="The events it receives.")
    enabled: bool = Field(description="Off: nothing is sent to it.")
    created_at: datetime = Field(description="When it was made.")
    updated_at: datetime = Field(description="When it last changed.")


class WebhookSecretRead(BaseModel):
    endpoint: WebhookEndpointRead = Field(description="The endpoint.")
    secret: str = Field(
        description="The signing secret (whsec_...), shown this once; verify webhook-signature "
        "with it (Standard Webhooks)."
    )


class WebhookAttemptRead(ReadModel):
    number: int = Field(description="1 for the first try.")
    status_code: int | None = Field(description="What the receiver answered, if it did.")
    error: str | None = Field(description="Why the try failed, in short.")
    response: str = Field(description="The start of the receiver's answer (1 KB at most).")
    created_at: datetime = Field(description="When the try was made.")


class WebhookDeliveryRead(ReadModel):
    id: str = Field(description="The delivery id, sent as `webhook-id`.")
    event_type: str = Field(description="The event.")
    payload: dict[str, Any] = Field(description="The body sent: type, timestamp, data.")
    status: str = Field(description="pending, delivered or failed.")
    attempts: int = Field(description="Tries made.")
    last_status_code: int | None = Field(description="The last answer's status code.")
    last_error: str | None = Field(description="Why the last try failed.")
    delivered_at: datetime | None = Field(description="When a 2xx came back.")
    created_at: datetime = Field(description="When the event was queued for this endpoint.")
    attempt_log: list[WebhookAttemptRead] = Field(
        default_factory=list, description="Every try, oldest first."
    )
