"""Feedback API shapes: surveys and their questions, responses, settings."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field, model_validator

from rapport.core.schemas import ReadModel
from rapport.feedback.enums import (
    SCORE_RANGES,
    DeliveryChannel,
    QuestionType,
    SurveyKind,
    SurveyTrigger,
)

NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
CHOICE_TYPES = (QuestionType.single_choice, QuestionType.multiple_choice)


class FollowUp(BaseModel):
    min_score: int = Field(description="Lowest score (inclusive) that asks this follow-up.")
    max_score: int = Field(description="Highest score (inclusive) that asks this follow-up.")
    text: str = Field(
        min_length=1, max_length=500, pattern=NO_CONTROL, description="The open question."
    )


def _bad_choice(choice: str) -> bool:
    """Tell whether a choice is blank, too long or holds a control character (it could
    never be chosen on the survey page)."""
    return not choice.strip() or len(choice) > 200 or re.match(NO_CONTROL, choice) is None


class Question(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9_-]{1,32}$", description="Short id, unique in its survey.")
    type: QuestionType = Field(
        description="nps (0-10), csat (1-5), ces (1-7), rating (1-5), single_choice, "
        "multiple_choice or open_text."
    )
    text: str = Field(min_length=1, max_length=500, pattern=NO_CONTROL, description="Question.")
    choices: list[str] = Field(
        default_factory=list, max_length=20, description="Options of a choice question."
    )
    required: bool = Field(default=True, description="Must be answered.")
    follow_ups: list[FollowUp] = Field(
        default_factory=list,
        max_length=5,
        description="Open questions asked after a score in their range (scored types only).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # The page compares answers stripped: a choice is kept stripped too.
        self.choices = [choice.strip() for choice in self.choices]
        if (self.type in CHOICE_TYPES) != bool(self.choices):
            raise ValueError("choices are given for, and only for, choice questions")
        if any(_bad_choice(choice) for choice in self.choices):
            raise ValueError("each choice has 1 to 200 characters and no control character")
        score_range = SCORE_RANGES.get(str(self.type))
        for follow_up in self.follow_ups:
            low, high = score_range or (1, 0)
            if not low <= follow_up.min_score <= follow_up.max_score <= high:
                raise ValueError("a follow-up's score range lies within its question's scores")
        return self

    @property
    def score_range(self) -> tuple[int, int] | None:
        """Return the inclusive score range of a scored question."""
        return SCORE_RANGES.get(str(self.type))


class TriggerSettings(BaseModel):
    event: SurveyTrigger = Field(
        default=SurveyTrigger.conversation_resolved,
        description="conversation_resolved (sent after a resolution), order_delivered (after the "
        "shop marks an order delivered) or manual (sent by hand).",
    )
    delay_days: int = Field(default=0, ge=0, le=365, description="Days to wait after the event.")


class _SurveyFields(BaseModel):
    @model_validator(mode="after")
    def _questions_fit(self) -> Self:
        questions: list[Question] | None = getattr(self, "questions", None)
        if questions is not None and len({item.id for item in questions}) != len(questions):
            raise ValueError("question ids are unique within a survey")
        return self


class SurveyCreate(_SurveyFields):
    name: str = Field(min_length=1, max_length=100, pattern=NO_CONTROL, description="Name.")
    kind: SurveyKind = Field(description="nps, csat, ces, rating or custom.")
    questions: list[Question] = Field(min_length=1, max_length=20, description="Questions.")
    trigger: TriggerSettings = Field(default_factory=TriggerSettings, description="What sends it.")
    channels: list[DeliveryChannel] = Field(
        default_factory=lambda: [DeliveryChannel.email],
        max_length=3,
        description="Delivery channels in order of preference: email, sms, chat (inline).",
    )
    marketing: bool = Field(
        default=False, description="A marketing survey: sent only with the channel's consent."
    )
    active: bool = Field(default=True, description="Sent by its trigger.")

    @model_validator(mode="after")
    def _kind_question(self) -> Self:
        if self.kind in SCORE_RANGES and not any(
            str(question.type) == str(self.kind) for question in self.questions
        ):
            raise ValueError(f"a {self.kind} survey asks one {self.kind} question")
        return self


class SurveyUpdate(_SurveyFields):
    name: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=NO_CONTROL, description="Name."
    )
    questions: list[Question] | None = Field(
        default=None, min_length=1, max_length=20, description="Questions."
    )
    trigger: TriggerSettings | None = Field(default=None, description="What sends it.")
    channels: list[DeliveryChannel] | None = Field(
        default=None, max_length=3, description="Delivery channels."
    )
    marketing: bool | None = Field(default=None, description="A marketing survey.")
    active: bool | None = Field(default=None, description="Sent by its trigger.")


class SurveyRead(ReadModel):
    id: str = Field(description="Survey id.")
    name: str = Field(description="Name.")
    kind: SurveyKind = Field(description="nps, csat, ces, rating or custom.")
    questions: list[Question] = Field(description="Questions.")
    trigger: TriggerSettings = Field(description="What sends it.")
    channels: list[DeliveryChannel] = Field(description="Delivery channels.")
    marketing: bool = Field(description="A marketing survey.")
    active: bool = Field(description="Sent by its trigger.")
    created_at: datetime = Field(description="When it was created.")
    updated_at: datetime = Field(description="When it last changed.")


class ResponseRead(BaseModel):
    id: str = Field(description="Response id.")
    survey_id: str | None = Field(description="The survey answered (none: imported).")
    customer_id: str | None = Field(description="The customer's profile id.")
    kind: SurveyKind = Field(description="nps, csat, ces, rating or custom.")
    score: int | None = Field(description="The score (none: no scored question).")
    comment: str | None = Field(description="The open-text answer, if any.")
    answers: dict[str, Any] = Field(description="Every answer by question id.")
    channel: str | None = Field(description="Where it was answered (or the import's column).")
    conversation_id: str | None = Field(description="The conversation it follows.")
    team_id: str | None = Field(description="That conversation's team.")
    staff_id: str | None = Field(description="That conversation's agent.")
    answered_at: datetime = Field(description="When it was answered.")
    origin: str = Field(description="survey or import.")
    sentiment_label: str | None = Field(description="The comment's sentiment.")
    sentiment_score: float | None = Field(description="The comment's sentiment in [-1, 1].")
    topics: list[str] = Field(description="What the comment is about.")


class FeedbackSettingsRead(BaseModel):
    throttle_days: int = Field(description="At most one survey per customer in this many days.")


class FeedbackSettingsUpdate(BaseModel):
    throttle_days: int = Field(ge=0, le=365, description="Days between surveys to one customer.")


class SurveySend(BaseModel):
    customer_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="The customer to ask.")


class SurveySendRead(BaseModel):
    invitation_id: str = Field(description="The invitation (one link, one answer).")
    channel: str = Field(description="How it was sent: email, or chat (inline in the widget).")
    expires_at: datetime = Field(description="When its link stops working.")
