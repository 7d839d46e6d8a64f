"""Assistant API shapes: settings per channel, the generative mode per workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from rapport.core.schemas import ReadModel
from rapport.support.enums import Channel

DEFAULT_NAME = "Assistant"
DEFAULT_CONFIDENCE = 0.6
DEFAULT_NEGATIVE = -0.6
DEFAULT_KNOWLEDGE = 0.5
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=60, pattern=r"^[^<>\x00-\x1f]*$"
    ),
]
TraitName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]


class AssistantSettingsUpdate(BaseModel):
    enabled: bool = Field(description="Whether the assistant owns new conversations here.")
    name: Name = Field(default=DEFAULT_NAME, description="The name the assistant signs with.")
    confidence_threshold: float = Field(
        default=DEFAULT_CONFIDENCE,
        ge=0,
        le=1,
        description="Below this intent confidence it asks once to rephrase, then hands off.",
    )
    negative_sentiment_threshold: float = Field(
        default=DEFAULT_NEGATIVE,
        ge=-1,
        le=0,
        description="A message's sentiment score (-1..1) at or below this hands off at once.",
    )
    knowledge_threshold: float = Field(
        default=DEFAULT_KNOWLEDGE,
        ge=0,
        le=1,
        description="A knowledge-base article scoring at least this (0..1) is the answer.",
    )
    vip_trait: TraitName | None = Field(
        default=None,
        description="A customer trait (such as `vip`); customers for whom it is true go "
        "straight to people.",
    )


class AssistantSettingsChange(AssistantSettingsUpdate):
    channel: Channel = Field(description="chat, email, sms, api, phone or in_store.")


class AssistantSettingsRead(ReadModel):
    # Frozen: the settings of a channel are shared by every turn for a few seconds.
    model_config = ConfigDict(from_attributes=True, frozen=True)

    channel: Channel = Field(description="The channel these settings apply to.")
    enabled: bool = Field(description="Whether the assistant owns new conversations here.")
    name: str = Field(description="The name the assistant signs with.")
    confidence_threshold: float = Field(description="Intent confidence needed to act on it.")
    negative_sentiment_threshold: float = Field(description="Sentiment score that hands off.")
    knowledge_threshold: float = Field(description="Article score needed to answer with it.")
    vip_trait: str | None = Field(description="Trait that marks a VIP customer.")
    updated_at: datetime | None = Field(description="When they last changed (null: defaults).")


class AssistantSettingsList(BaseModel):
    items: list[AssistantSettingsRead] = Field(description="Every channel's settings.")


DEFAULT_MODEL_TIMEOUT = 8.0
BaseUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=r"^\S+$")
]
ModelName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^<>\s\x00-\x1f]+$"
    ),
]


class GenerativeSettingsUpdate(BaseModel):
    enabled: bool = Field(description="Whether the assistant asks the model for its answers.")
    base_url: BaseUrl = Field(
        description="The OpenAI-compatible API's base URL (`https://api.example.com/v1`, "
        "`http://127.0.0.1:11434/v1` for Ollama); `/chat/completions` is added to it."
    )
    model: ModelName = Field(description="The model's name at that endpoint (`llama3.1:8b`).")
    api_key: SecretStr | None = Field(
        default=None,
        max_length=500,
        description="The endpoint's API key, sealed at rest and never shown again; omit it "
        "to keep the stored one (same scheme, host and port only: a new host needs it again).",
    )
    clear_api_key: bool = Field(
        default=False, description="Forget the stored API key (a local server needs none)."
    )
    timeout_seconds: float = Field(
        default=DEFAULT_MODEL_TIMEOUT,
        ge=1,
        le=20,
        description="How long a turn waits for the model before the rules answer instead.",
    )


class GenerativeSettingsRead(ReadModel):
    enabled: bool = Field(description="Whether the assistant asks the model for its answers.")
    base_url: str = Field(description="The OpenAI-compatible API's base URL ('' until set).")
    model: str = Field(description="The model's name at that endpoint.")
    api_key_set: bool = Field(description="Whether an API key is stored (it is never shown).")
    timeout_seconds: float = Field(description="Seconds a turn waits for the model.")
    updated_at: datetime | None = Field(description="When they last changed (null: never).")
