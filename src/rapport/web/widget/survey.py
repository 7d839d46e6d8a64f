"""The widget's inline survey: after a resolved chat, the visitor who owns the conversation
reads its survey's questions and answers them once, exactly as the survey page would."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from rapport.core.db import Database
from rapport.errors import error_responses
from rapport.feedback.answering import answer
from rapport.feedback.delivery import delivery
from rapport.feedback.errors import (
    InvalidAnswer,
    SurveyLinkExpired,
    SurveyLinkInvalid,
    SurveyLinkUsed,
)
from rapport.feedback.inline import InlineAnswer, InlineAnswered, InlineSurveyRead
from rapport.feedback.schemas import Question
from rapport.support.errors import ConversationNotFound
from rapport.support.widget import widget
from rapport.support.widget_errors import VisitorNotRecognised, WidgetThrottled
from rapport.web.widget.limits import limits_of

router = APIRouter(tags=["widget"])
ConversationId = Annotated[str, Query(pattern=r"^[0-9a-f]{32}$")]


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise VisitorNotRecognised("Send the visitor token as `Authorization: Bearer <token>`.")
    return token.strip()


async def _token_of(request: Request, conversation_id: str) -> tuple[str, InlineSurveyRead] | None:
    """Return the link token and questions of the visitor's conversation's open survey."""
    database: Database = request.app.state.database
    async with database.session() as session:
        visitor = await widget.authenticate(session, _bearer(request))
        # Raises ConversationNotFound unless this visitor owns the conversation.
        await widget.messages(session, visitor, conversation_id, 2**31 - 1, limit=0)
        inline = await delivery.inline_survey(session, visitor.workspace_id, conversation_id)
    if inline is None:
        return None
    questions = [Question.model_validate(item) for item in inline.questions]
    return inline.token, InlineSurveyRead(
        survey_id=inline.survey_id, conversation_id=conversation_id, questions=questions
    )


@router.get(
    "/widget/survey",
    response_model=InlineSurveyRead,
    responses={
        204: {"description": "No survey waits for this conversation."},
        **error_responses(VisitorNotRecognised, ConversationNotFound),
    },
)
async def get_widget_survey(request: Request, conversation_id: ConversationId) -> Any:
    """Return the unanswered survey that follows the visitor's resolved chat (204: none)."""
    found = await _token_of(request, conversation_id)
    return Response(status_code=204) if found is None else found[1]


@router.post(
    "/widget/survey",
    responses=error_responses(
        VisitorNotRecognised, ConversationNotFound, SurveyLinkInvalid, SurveyLinkUsed,
        SurveyLinkExpired, InvalidAnswer, WidgetThrottled,
    ),
)  # fmt: skip
async def answer_widget_survey(body: InlineAnswer, request: Request) -> InlineAnswered:
    """Answer the survey that follows the visitor's chat, once (410 when already answered)."""
    found = await _token_of(request, body.conversation_id)
    if found is None:
        raise SurveyLinkUsed("No survey waits for this conversation.")
    address = request.client.host if request.client else None
    limits_of(request.app.state).message(f"survey:{body.conversation_id}", address)
    stored = await answer(request.app.state.database, found[0], dict(body.answers))
    return InlineAnswered(score=stored.score)
