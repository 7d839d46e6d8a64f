"""Reply history: what agents answered to customers, for suggesting replies to a similar
question (the conversations the caller may see only, of one workspace)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.support.answered_repository import AnsweredRepository
from rapport.support.messages import read_message
from rapport.support.models import Message
from rapport.support.schemas import Acting, MessageRead
from rapport.support.teams import teams

RECENT_REPLIES = 300


@dataclass(frozen=True)
class AnsweredQuestion:
    """A customer's message and the first public agent reply that followed it."""

    conversation_id: str
    question_id: str
    question: str
    answer_id: str
    answer: str


class ReplyHistory:
    async def answered(
        self,
        session: AsyncSession,
        workspace_id: str,
        acting: Acting,
        *,
        exclude_conversation_id: str,
        limit: int = RECENT_REPLIES,
    ) -> list[AnsweredQuestion]:
        """Return recent customer questions with the agent reply that answered each, newest
        first, from the conversations the caller may see (not the one excluded)."""
        visibility = await teams.visibility(session, workspace_id, acting.staff_id)
        repository = AnsweredRepository(session, workspace_id)
        replies = await repository.recent_replies(visibility, exclude_conversation_id, limit)
        first: dict[str, Message] = {}
        for reply, question_id in replies:  # newest first: the last seen answered first
            first[question_id] = reply
        questions = {m.id: m for m in await repository.with_ids(list(first))}
        found: list[AnsweredQuestion] = []
        for question_id, reply in first.items():
            question = questions.get(question_id)
            if question is None:
                continue
            asked, answered = read_message(question), read_message(reply)
            found.append(
                AnsweredQuestion(
                    conversation_id=answered.conversation_id, question_id=asked.id,
                    question=asked.body, answer_id=answered.id, answer=answered.body,
                )
            )  # fmt: skip
        return found

    async def last_question(
        self, session: AsyncSession, workspace_id: str, conversation_id: str
    ) -> MessageRead | None:
        """Return the latest public customer message of a conversation the caller was
        already allowed to read (the caller checks access first)."""
        found = await AnsweredRepository(session, workspace_id).last_question(conversation_id)
        return read_message(found) if found is not None else None


reply_history = ReplyHistory()
