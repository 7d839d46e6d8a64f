"""The survey editor's form: what it shows (a draft of raw values, so a refused form comes
back as it was typed) and how it turns into the feedback service's SurveyCreate/SurveyUpdate."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from rapport.errors import UnprocessableContent
from rapport.feedback.enums import SCORE_RANGES, DeliveryChannel, QuestionType, SurveyKind
from rapport.feedback.schemas import Question, SurveyCreate, SurveyRead, SurveyUpdate

Model = TypeVar("Model", bound=BaseModel)
MAX_QUESTIONS = 20
MAX_FOLLOW_UPS = 5
CHANNEL_SLOTS = 3
_QUESTION_KEY = re.compile(r"^q([0-9]{1,2})_type$")
_FOLLOW_UP_KEY = re.compile(r"^q([0-9]{1,2})_f([0-9])_text$")

KIND_LABELS = {
    "nps": "NPS (0-10)",
    "csat": "CSAT (1-5)",
    "ces": "CES (1-7)",
    "rating": "Rating (1-5)",
    "custom": "Custom (choices, open text)",
}
QUESTION_LABELS = {
    "nps": "NPS, 0-10",
    "csat": "CSAT, 1-5",
    "ces": "CES, 1-7",
    "rating": "Rating, 1-5",
    "single_choice": "Single choice",
    "multiple_choice": "Multiple choice",
    "open_text": "Open text",
}
TRIGGER_LABELS = {
    "conversation_resolved": "A conversation is resolved",
    "order_delivered": "An order is delivered",
    "manual": "By hand or campaign only",
}
CHANNEL_LABELS = {"chat": "Inline in the chat widget", "email": "Email link", "sms": "SMS link"}
# What a new survey of each kind asks first (the shop owner edits it as they like).
STARTERS: dict[str, tuple[str, list[tuple[int, int, str]]]] = {
    "nps": (
        "How likely are you to recommend us to a friend or colleague?",
        [(0, 6, "What could we do better?"), (9, 10, "What do you like most about us?")],
    ),
    "csat": ("How satisfied are you with the help you got?", [(1, 3, "What went wrong?")]),
    "ces": ("How easy was it to get your issue solved?", [(1, 3, "What made it hard?")]),
    "rating": ("How would you rate your order?", [(1, 2, "What disappointed you?")]),
    "custom": ("What was your visit about?", []),
}


@dataclass
class FollowUpDraft:
    min_score: str = ""
    max_score: str = ""
    text: str = ""


@dataclass
class QuestionDraft:
    id: str = ""
    type: str = "open_text"
    text: str = ""
    choices: str = ""  # one per line
    required: bool = True
    follow_ups: list[FollowUpDraft] = field(default_factory=list)

    @property
    def scored(self) -> bool:
        """Tell whether the question asks for a score (and may carry follow-ups)."""
        return self.type in SCORE_RANGES

    @property
    def blank(self) -> bool:
        """Tell whether the slot was left empty (an unused "add a question" slot)."""
        return not self.text.strip() and not self.choices.strip()

    def slots(self) -> list[FollowUpDraft]:
        """Return the follow-ups to show: those given, then one empty to fill."""
        if not self.scored:
            return []
        extra = [FollowUpDraft()] if len(self.follow_ups) < MAX_FOLLOW_UPS else []
        return [*self.follow_ups, *extra]


@dataclass
class SurveyDraft:
    name: str = ""
    kind: str = "nps"
    questions: list[QuestionDraft] = field(default_factory=list)
    trigger_event: str = "conversation_resolved"
    delay_days: str = "0"
    channels: list[str] = field(default_factory=lambda: ["email"])
    marketing: bool = False
    active: bool = True

    def question_slots(self, extra: int = 1) -> list[QuestionDraft]:
        """Return the questions to show, ending with at least `extra` empty ones to fill."""
        trailing = 0
        for question in reversed(self.questions):
            if not question.blank:
                break
            trailing += 1
        room = max(0, min(extra - trailing, MAX_QUESTIONS - len(self.questions)))
        blank_type = "open_text" if self.questions else _first_type(self.kind)
        return [*self.questions, *(QuestionDraft(type=blank_type) for _ in range(room))]

    def channel_slots(self) -> list[str]:
        """Return the channels in order, padded with empty choices to CHANNEL_SLOTS."""
        return [*self.channels, *([""] * (CHANNEL_SLOTS - len(self.channels)))][:CHANNEL_SLOTS]

    def to_create(self) -> SurveyCreate:
        """Return the survey to create; a readable UnprocessableContent when it does not fit."""
        values = {"name": self.name.strip(), "kind": self.kind, **self._body()}
        return _checked(SurveyCreate, values)

    def to_update(self) -> SurveyUpdate:
        """Return the change to save; a readable UnprocessableContent when it does not fit."""
        return _checked(SurveyUpdate, {"name": self.name.strip(), **self._body()})

    def _body(self) -> dict[str, Any]:
        used = [question for question in self.questions if not question.blank]
        if not used:
            raise UnprocessableContent("Ask at least one question.")
        _give_ids(used)
        return {
            "questions": [
                _question(question, position) for position, question in enumerate(used, 1)
            ],
            "trigger": {
                "event": self.trigger_event,
                "delay_days": _number(self.delay_days, "The delay"),
            },
            "channels": self._channels(),
            "marketing": self.marketing,
            "active": self.active,
        }

    def _channels(self) -> list[str]:
        if not self.channels:
            raise UnprocessableContent("Choose at least one delivery channel.")
        if len(set(self.channels)) != len(self.channels):
            raise UnprocessableContent("Choose each delivery channel once.")
        return self.channels

    def questions_preview(self) -> list[Question]:
        """Return the questions as the survey page draws them (checked as for saving)."""
        return self.to_update().questions or []


def _first_type(kind: str) -> str:
    return kind if kind in SCORE_RANGES else "single_choice"


def starter(kind: str) -> SurveyDraft:
    """Return a new survey's form, with the kind's usual first question and follow-ups."""
    if kind not in KIND_LABELS:
        kind = "nps"
    text, follow_ups = STARTERS[kind]
    first = QuestionDraft(
        id="q1",
        type=_first_type(kind),
        text=text,
        choices="" if kind in SCORE_RANGES else "An order\nA return\nSomething else",
        follow_ups=[FollowUpDraft(str(low), str(high), ask) for low, high, ask in follow_ups],
    )
    return SurveyDraft(name="", kind=kind, questions=[first])


def from_survey(survey: SurveyRead) -> SurveyDraft:
    """Return a saved survey's form."""
    return SurveyDraft(
        name=survey.name,
        kind=str(survey.kind),
        questions=[
            QuestionDraft(
                id=question.id,
                type=str(question.type),
                text=question.text,
                choices="\n".join(question.choices),
                required=question.required,
                follow_ups=[
                    FollowUpDraft(str(item.min_score), str(item.max_score), item.text)
                    for item in question.follow_ups
                ],
            )
            for question in survey.questions
        ],
        trigger_event=str(survey.trigger.event),
        delay_days=str(survey.trigger.delay_days),
        channels=[str(channel) for channel in survey.channels],
        marketing=survey.marketing,
        active=survey.active,
    )


def from_form(form: Mapping[str, str], kind: str | None = None) -> SurveyDraft:
    """Read the editor's fields (`q<i>_type`, `q<i>_text`, `q<i>_f<j>_min`, ...)."""
    indices = sorted({int(match[1]) for key in form if (match := _QUESTION_KEY.match(key))})
    questions = []
    for index in indices[: MAX_QUESTIONS + 1]:
        prefix = f"q{index}_"
        if form.get(prefix + "remove"):
            continue
        follow_ups = []
        slots = sorted(
            int(match[2])
            for key in form
            if (match := _FOLLOW_UP_KEY.match(key)) and int(match[1]) == index
        )
        for slot in slots:
            key = f"{prefix}f{slot}_"
            draft = FollowUpDraft(
                form.get(key + "min", "").strip(),
                form.get(key + "max", "").strip(),
                form.get(key + "text", "").strip(),
            )
            if draft.text:
                follow_ups.append(draft)
        questions.append(
            QuestionDraft(
                id=form.get(prefix + "id", "").strip(),
                type=form.get(prefix + "type", "open_text"),
                text=form.get(prefix + "text", "").strip(),
                choices=form.get(prefix + "choices", ""),
                required=bool(form.get(prefix + "required")),
                follow_ups=follow_ups,
            )
        )
    channels = [
        value
        for slot in range(1, CHANNEL_SLOTS + 1)
        if (value := form.get(f"channel_{slot}", "").strip())
    ]
    return SurveyDraft(
        name=form.get("name", ""),
        kind=kind or form.get("kind", "nps"),
        questions=questions,
        trigger_event=form.get("trigger_event", "conversation_resolved"),
        delay_days=form.get("delay_days", "0").strip() or "0",
        channels=channels,
        marketing=bool(form.get("marketing")),
        active=bool(form.get("active")),
    )


def _number(value: str, what: str) -> int:
    if not re.fullmatch(r"[0-9]{1,4}", value.strip()):
        raise UnprocessableContent(f"{what} is a whole number of days, from 0 to 365.")
    return int(value)


def _question(question: QuestionDraft, position: int) -> dict[str, Any]:
    follow_ups = []
    for slot, item in enumerate(question.follow_ups, start=1):
        where = f"Question {position}, follow-up {slot}"
        if not item.min_score.strip() or not item.max_score.strip():
            raise UnprocessableContent(f"{where}: give the lowest and highest score that ask it.")
        try:
            low, high = int(item.min_score), int(item.max_score)
        except ValueError:
            raise UnprocessableContent(f"{where}: the scores are whole numbers.") from None
        follow_ups.append({"min_score": low, "max_score": high, "text": item.text})
    choices = [line.strip() for line in question.choices.splitlines() if line.strip()]
    return {
        "id": question.id,
        "type": question.type,
        "text": question.text,
        "choices": choices if question.type in _CHOICE_TYPES else [],
        "required": question.required,
        "follow_ups": follow_ups if question.type in SCORE_RANGES else [],
    }


_CHOICE_TYPES = (QuestionType.single_choice.value, QuestionType.multiple_choice.value)


def _give_ids(used: list[QuestionDraft]) -> None:
    """Give each new question an id no other question has (q1, q2, ...), kept once saved."""
    taken = {question.id for question in used if question.id}
    number = 1
    for question in used:
        if question.id:
            continue
        while f"q{number}" in taken:
            number += 1
        question.id = f"q{number}"
        taken.add(question.id)


_FIELD_NAMES = {
    "name": "Name",
    "kind": "Kind",
    "type": "type",
    "text": "wording",
    "choices": "choices",
    "min_score": "lowest score",
    "max_score": "highest score",
    "event": "Trigger",
    "delay_days": "Delay",
    "channels": "Channels",
}


def _checked(model: type[Model], values: dict[str, Any]) -> Model:
    """Build `model`, turning its first validation error into a sentence naming the field."""
    try:
        return model.model_validate(values)
    except ValidationError as invalid:
        raise UnprocessableContent(_sentence(invalid.errors()[0])) from invalid


def _sentence(problem: Any) -> str:
    location = [part for part in problem.get("loc", ()) if part != "__root__"]
    message = str(problem.get("msg", "is not valid")).removeprefix("Value error, ")
    parts = []
    index = 0
    while index < len(location):
        part = location[index]
        following = location[index + 1] if index + 1 < len(location) else None
        if part == "questions" and isinstance(following, int):
            parts.append(f"Question {following + 1}")
            index += 2
            continue
        if part == "follow_ups" and isinstance(following, int):
            parts.append(f"follow-up {following + 1}")
            index += 2
            continue
        if part == "choices" and isinstance(following, int):
            parts.append(f"choice {following + 1}")
            index += 2
            continue
        if isinstance(part, str) and part not in ("trigger",):
            parts.append(_FIELD_NAMES.get(part, part.replace("_", " ")))
        index += 1
    where = ", ".join(parts)
    message = message[:1].upper() + message[1:]
    return f"{where}: {message}." if where else f"{message}."


def kind_options() -> list[tuple[str, str]]:
    """Return the survey kinds with their labels."""
    return [(str(kind), KIND_LABELS[str(kind)]) for kind in SurveyKind]


def channel_options() -> list[tuple[str, str]]:
    """Return the delivery channels with their labels."""
    return [(str(channel), CHANNEL_LABELS[str(channel)]) for channel in DeliveryChannel]
