"""The inline survey of the chat widget: the push that tells an open widget a survey waits,
and the shape of the answer the widget posts (read like the survey page's form)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.realtime import publish_after_commit
from rapport.feedback.schemas import Question

SURVEY_READY = "survey.ready"
# The support desk's conversation topic (support/notify.py), spelt here: feedback and
# support are sibling layers.
CONVERSATION_TOPIC = "conversation:{}"

FieldName = Annotated[str, StringConstraints(pattern=r"^[qf]_[A-Za-z0-9_-]{1,64}$")]
FieldValue = Annotated[str, StringConstraints(max_length=2000)]


def announce_inline(session: AsyncSession, workspace_id: str, conversation_id: str) -> None:
    """Tell the conversation's open widgets, once this unit commits, that a survey waits."""
    publish_after_commit(
        session, workspace_id, CONVERSATION_TOPIC.format(conversation_id),
        {"type": SURVEY_READY, "conversation_id": conversation_id},
    )  # fmt: skip


class InlineSurveyRead(BaseModel):
    survey_id: str
    conversation_id: str
    questions: list[Question]


class InlineAnswer(BaseModel):
    conversation_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    answers: dict[FieldName, list[FieldValue]] = Field(
        max_length=40,
        description="The form's fields, as on the survey page: `q_<question id>` (a score, "
        "a choice or text) and `f_<question id>` (the follow-up's text).",
    )


class InlineAnswered(BaseModel):
    score: int | None
