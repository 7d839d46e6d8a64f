"""Feedback enumerations: survey kinds, question types, origins and delivery channels."""

from __future__ import annotations

import enum


class SurveyKind(enum.StrEnum):
    """What a survey (and each response) measures; decides the score's range."""

    nps = "nps"
    csat = "csat"
    ces = "ces"
    rating = "rating"
    custom = "custom"


class QuestionType(enum.StrEnum):
    """The kinds of question a survey may ask."""

    nps = "nps"
    csat = "csat"
    ces = "ces"
    rating = "rating"
    single_choice = "single_choice"
    multiple_choice = "multiple_choice"
    open_text = "open_text"


class ResponseOrigin(enum.StrEnum):
    """Where a response came from."""

    survey = "survey"
    imported = "import"


class SurveyTrigger(enum.StrEnum):
    """What sends a survey."""

    conversation_resolved = "conversation_resolved"
    manual = "manual"
    order_delivered = "order_delivered"


class DeliveryChannel(enum.StrEnum):
    """How a survey reaches a customer."""

    email = "email"
    sms = "sms"
    chat = "chat"


# Inclusive score ranges of the scored kinds (and of the matching question types).
SCORE_RANGES: dict[str, tuple[int, int]] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
    "rating": (1, 5),
}
