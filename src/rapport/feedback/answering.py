"""Answering a survey through its link (the public page or the chat widget): the link is
checked, the answers are read against the questions, and the response is stored once."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc, utcnow
from rapport.core.db import Database
from rapport.core.ids import new_id
from rapport.feedback.enums import QuestionType, ResponseOrigin
from rapport.feedback.errors import (
    InvalidAnswer,
    SurveyLinkExpired,
    SurveyLinkInvalid,
    SurveyLinkUsed,
)
from rapport.feedback.links import invitation_of
from rapport.feedback.models import Survey, SurveyInvitation, SurveyResponse
from rapport.feedback.repository import LinkRepository, ResponseRepository
from rapport.feedback.schemas import Question
from rapport.feedback.text import TextLabels, label_texts, seal_answers, seal_comment

MAX_TEXT = 2000
_SCORE = re.compile(r"[0-9]{1,4}")
USED = "This survey was already answered. Thank you!"


@dataclass(frozen=True)
class OpenSurvey:
    """A survey a valid link opens: the invitation and its survey's questions."""

    invitation: SurveyInvitation
    survey: Survey
    questions: list[Question]


@dataclass
class Answers:
    """What a form said, checked: the score, the open text and every answer by question."""

    score: int | None = None
    comment: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


async def open_link(session: AsyncSession, token: str, *, lock: bool = False) -> OpenSurvey:
    """Return the survey a link opens; raise if it is invalid, used or expired."""
    invitation_id = invitation_of(token)
    invitation = await LinkRepository(session).invitation(invitation_id, lock=lock)
    if invitation is None:
        raise SurveyLinkInvalid("This survey link is not valid.")
    if invitation.answered_at is not None:
        raise SurveyLinkUsed(USED)
    if as_utc(invitation.expires_at) <= utcnow():
        raise SurveyLinkExpired("This survey link has expired.")
    survey = await LinkRepository(session).survey(invitation.workspace_id, invitation.survey_id)
    if survey is None:
        raise SurveyLinkInvalid("This survey no longer exists.")
    questions = [Question.model_validate(item) for item in survey.questions]
    return OpenSurvey(invitation, survey, questions)


def read_answers(questions: list[Question], kind: str, form: dict[str, list[str]]) -> Answers:
    """Check a form's answers (`q_<id>`, follow-ups `f_<id>`) against the questions."""
    answers = Answers()
    for question in questions:
        given = [value.strip() for value in form.get(f"q_{question.id}", []) if value.strip()]
        if not given:
            if question.required:
                raise InvalidAnswer(f"Please answer: {question.text}")
            continue
        value = _value(question, given)
        answers.values[question.id] = value
        if isinstance(value, int) and answers.score is None and str(question.type) == kind:
            answers.score = value
            _follow_up(question, value, form, answers)
        elif question.type == QuestionType.open_text and answers.comment is None:
            answers.comment = str(value)
    if answers.score is None:
        answers.score = next((v for v in answers.values.values() if isinstance(v, int)), None)
    return answers


def _value(question: Question, given: list[str]) -> int | str | list[str]:
    score_range = question.score_range
    if score_range is not None:
        low, high = score_range
        # ASCII digits only: "²" is a digit to str.isdigit() but not to int(), and int()
        # refuses thousands of digits.
        if not _SCORE.fullmatch(given[0]) or not low <= int(given[0]) <= high:
            raise InvalidAnswer(f"Choose a score from {low} to {high}: {question.text}")
        return int(given[0])
    if question.type == QuestionType.open_text:
        return given[0][:MAX_TEXT]
    if any(value not in question.choices for value in given):
        raise InvalidAnswer(f"Choose one of the options: {question.text}")
    if question.type == QuestionType.single_choice:
        return given[0]
    return list(dict.fromkeys(given))


def _follow_up(
    question: Question, score: int, form: dict[str, list[str]], answers: Answers
) -> None:
    """Keep the open answer of the follow-up this score asks (the others are ignored)."""
    for follow_up in question.follow_ups:
        if follow_up.min_score <= score <= follow_up.max_score:
            text = next((v.strip() for v in form.get(f"f_{question.id}", []) if v.strip()), "")
            if text:
                answers.values[f"{question.id}.follow_up"] = text[:MAX_TEXT]
                answers.comment = text[:MAX_TEXT]
            return


async def record(
    session: AsyncSession, token: str, answers: Answers, labels: TextLabels | None
) -> SurveyResponse:
    """Store the answers of a link once: the invitation is locked, a second answer is
    refused, and the dedupe key stops a race the lock could miss."""
    opened = await open_link(session, token, lock=True)
    invitation, now = opened.invitation, utcnow()
    response_id = new_id()
    row = {
        "id": response_id,
        "survey_id": opened.survey.id,
        "invitation_id": invitation.id,
        "customer_id": invitation.customer_id,
        "kind": str(opened.survey.kind),
        "score": answers.score,
        "comment": seal_comment(response_id, answers.comment),
        "answers": seal_answers(response_id, answers.values),
        "channel": invitation.channel,
        "conversation_id": invitation.conversation_id,
        "team_id": invitation.team_id,
        "staff_id": invitation.staff_id,
        "answered_at": now,
        "origin": ResponseOrigin.survey.value,
        "dedupe_key": hashlib.sha256(f"invitation:{invitation.id}".encode()).hexdigest(),
        "sentiment_label": labels.label if labels else None,
        "sentiment_score": labels.score if labels else None,
        "topics": labels.topics if labels else [],
    }
    repository = ResponseRepository(session, invitation.workspace_id)
    if await repository.insert_new([row]) == 0:
        raise SurveyLinkUsed(USED)
    invitation.answered_at = now
    stored = await repository.get(response_id)
    if stored is None:
        raise SurveyLinkUsed(USED)
    return stored


async def answer(database: Database, token: str, form: dict[str, list[str]]) -> SurveyResponse:
    """Answer a survey through its link: read the answers in one short unit, label the open
    text with no unit open (a model call, on a worker thread: the event loop serves other
    requests meanwhile), store the response in a second unit."""
    async with database.session() as session:
        opened = await open_link(session, token)
        answers = read_answers(opened.questions, str(opened.survey.kind), form)
    labels = None
    if answers.comment:
        labels = (await asyncio.to_thread(label_texts, [answers.comment]))[0]
    async with database.session() as session:
        return await record(session, token, answers, labels)
