"""Assistant API shapes: settings per channel, the generative mode per workspace, the
workspace's own intents."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from rapport.assistant.dialogue import TaskName
from rapport.core.schemas import ReadModel
from rapport.nlp.examples import DEFAULT_MIN_SIMILARITY
from rapport.nlp.intents import default_labels
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


MAX_EXAMPLES = 50
IntentName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=2, max_length=48, pattern=r"^[a-z][a-z0-9_]{1,47}$"
    ),
]
# Tabs and line breaks, but no other control characters.
NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
# An example is one line (the validator makes every whitespace run one space).
Example = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=NO_CONTROL),
]
Answer = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=2000,
        pattern=NO_CONTROL,
    ),
]


# A language as the labels detect it: ISO 639-1, two letters (py3langid's codes).
LanguageCode = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[A-Za-z]{2}$")]
MAX_TRANSLATIONS = 30
# A line alone that heads one language's answer in the console's form ("[fr]"): a
# translation may not hold one, or it would read as the start of another language's answer.
LANGUAGE_HEADING = re.compile(r"^\s*\[([A-Za-z]{2})\]\s*$", re.MULTILINE)


def visible_answer(answer: str) -> str:
    """Return an answer with its lines' trailing spaces dropped, or refuse one that shows
    nothing (only spaces, zero-width or format characters)."""
    if not any(unicodedata.category(character)[0] in "LNPS" for character in answer):
        raise ValueError("the answer shows nothing: write some text")
    return "\n".join(line.rstrip() for line in answer.splitlines())


class CustomIntentWrite(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "store_hours",
                    "examples": ["When do you open?", "Are you open on Sundays?"],
                    "answer": "We are open 9:00-18:00, Monday to Saturday.",
                },
                {
                    "name": "parcel_left",
                    "examples": ["Has my parcel left?", "Did my parcel leave the warehouse?"],
                    "task": "order_status",
                },
            ]
        }
    )

    name: IntentName = Field(
        description="The intent's name: lowercase letters, digits and underscores, 2-48 "
        "characters, starting with a letter (`store_hours`); not a built-in intent's name."
    )
    examples: list[Example] = Field(
        min_length=1,
        max_length=MAX_EXAMPLES,
        description="Messages a customer would send for it, up to 300 characters each (five "
        "or more, worded differently, work best); repeats are dropped.",
    )
    answer: Answer | None = Field(
        default=None,
        description="What the assistant replies when a message matches (plain text, up to "
        "2,000 characters; line breaks kept). Needed unless the intent starts a task; with "
        "a task, said before the task's first question.",
    )
    translations: dict[LanguageCode, Answer] = Field(
        default_factory=dict,
        max_length=MAX_TRANSLATIONS,
        description="The answer in other languages, by language code (`fr`, `de`, ...): a "
        "message detected in one of them gets that answer, every other message `answer` "
        "(needed with these).",
    )
    enabled: bool = Field(default=True, description="Whether messages are matched to it.")
    hand_off: bool = Field(
        default=False,
        description="After the answer, give the conversation to people (a sales question, a "
        "partnership): the answer then says what happens next.",
    )
    task: TaskName | None = Field(
        default=None,
        description="After the answer (if any), start one of the assistant's order tasks as "
        "its built-in intents do: `order_status`, `cancel_order`, `change_address`, "
        "`request_return` or `resend_invoice`. The order is verified as the customer's, and "
        "every change waits for the customer's yes.",
    )
    min_similarity: float = Field(
        default=DEFAULT_MIN_SIMILARITY,
        ge=0.3,
        le=0.99,
        allow_inf_nan=False,
        description="How similar (0-1) a message must be to take this intent: the mean of its "
        "cosine to the nearest example and to the examples' centroid. Lower catches more "
        "wordings and more unrelated messages; see the report.",
    )

    @field_validator("name")
    @classmethod
    def _not_built_in(cls, name: str) -> str:
        if name in default_labels():
            raise ValueError(f"{name} is a built-in intent; pick another name")
        return name

    @field_validator("answer")
    @classmethod
    def _newlines(cls, answer: str | None) -> str | None:
        return None if answer is None else visible_answer(answer)

    @field_validator("translations", mode="before")
    @classmethod
    def _one_answer_a_language(cls, translations: object) -> object:
        if isinstance(translations, dict):
            seen: set[str] = set()
            for language in translations:
                folded = str(language).lower()
                if folded in seen:
                    raise ValueError(f"{folded} is given twice (codes are read in lowercase)")
                seen.add(folded)
        return translations

    @field_validator("translations")
    @classmethod
    def _translated(cls, translations: dict[str, str]) -> dict[str, str]:
        for language, text in translations.items():
            if LANGUAGE_HEADING.search(text):
                raise ValueError(
                    f"the {language} answer has a line like [xx] alone, which reads as the "
                    "start of another language's answer"
                )
        return {language: visible_answer(text) for language, text in sorted(translations.items())}

    @model_validator(mode="after")
    def _something_to_do(self) -> CustomIntentWrite:
        if self.task is None and self.answer is None:
            raise ValueError("an answer is needed unless the intent starts a task")
        if self.translations and self.answer is None:
            raise ValueError("answers in other languages need the answer for every other one")
        if self.task is not None and self.hand_off:
            raise ValueError("an intent that starts a task cannot also hand off: pick one")
        return self

    @field_validator("examples")
    @classmethod
    def _distinct(cls, examples: list[str]) -> list[str]:
        kept: dict[str, str] = {}
        for example in examples:
            if not any(character.isalnum() for character in example):
                raise ValueError(f"{example!r} has no letter or digit: a message needs words")
            one_line = " ".join(example.split())
            kept.setdefault(one_line.casefold(), one_line)
        return list(kept.values())


class CustomIntentRead(ReadModel):
    id: str = Field(description="The custom intent's id.")
    name: str = Field(description="Its name, stored as the intent of the messages it matches.")
    examples: list[str] = Field(description="The example messages.")
    answer: str | None = Field(description="What the assistant replies to a matching message.")
    translations: dict[str, str] = Field(description="The answer in other languages.")
    enabled: bool = Field(description="Whether messages are matched to it.")
    hand_off: bool = Field(description="Whether the conversation goes to people after it.")
    task: str | None = Field(description="The order task it starts after its answer, if any.")
    min_similarity: float = Field(description="How similar a message must be to take it.")
    created_at: datetime = Field(description="When it was created.")
    updated_at: datetime = Field(description="When it last changed.")


class CustomIntentList(BaseModel):
    items: list[CustomIntentRead] = Field(description="The workspace's custom intents, by name.")


class CustomIntentCheck(BaseModel):
    name: str = Field(description="The custom intent.")
    examples: int = Field(description="How many examples it has.")
    min_similarity: float = Field(description="How similar a message must be to take it.")
    matched: int = Field(
        description="Examples that take their own intent when each is left out in turn."
    )
    unmatched: int = Field(description="Examples similar enough to no intent.")
    confused_with: dict[str, int] = Field(
        description="Examples that would take another intent, by that intent."
    )
    built_in: dict[str, int] = Field(
        description="Examples the shipped model reads, confidently, as one of the built-in "
        "intents the assistant acts on, by that intent: an order task (this intent's answer "
        "replaces the task for messages like them, unless it starts the same task), asking "
        "for a person or a complaint (those hand off before custom intents are looked at)."
    )


class CustomIntentReport(BaseModel):
    items: list[CustomIntentCheck] = Field(description="One row per enabled custom intent.")


class CustomIntentDayCount(BaseModel):
    day: date = Field(description="The day (UTC).")
    matches: int = Field(description="Customer messages that took the intent that day.")


class CustomIntentMatches(BaseModel):
    intent_id: str = Field(description="The custom intent.")
    name: str = Field(description="Its name now.")
    total: int = Field(description="Customer messages that took it in the window.")
    days: list[CustomIntentDayCount] = Field(description="Every day of the window, oldest first.")


class CustomIntentMatchReport(BaseModel):
    first_day: date = Field(description="The window's first day (UTC).")
    last_day: date = Field(description="Its last day: today (UTC).")
    items: list[CustomIntentMatches] = Field(description="One per custom intent, by name.")
