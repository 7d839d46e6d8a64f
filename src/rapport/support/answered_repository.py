"""The SQL of reply history: agents' recent public replies and the customer message each
one followed, in the conversations a caller may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from rapport.core.repository import TenantRepository
from rapport.support.enums import AuthorType
from rapport.support.models import Conversation, Message
from rapport.support.repository import _visible
from rapport.support.schemas import Visibility


class AnsweredRepository(TenantRepository[Message]):
    model = Message

    async def recent_replies(
        self, visibility: Visibility, exclude_conversation_id: str, limit: int
    ) -> Sequence[tuple[Message, str]]:
        """Return the latest public agent replies (newest first) with the id of the customer
        message before each, in visible conversations other than the one excluded."""
        question = aliased(Message)
        asked = (
            select(question.id)
            .where(
                question.workspace_id == self.workspace_id,
                question.conversation_id == Message.conversation_id,
                question.author_type == AuthorType.customer,
                question.private.is_(False),
                question.id < Message.id,
            )
            .order_by(question.id.desc())
            .limit(1)
            .correlate(Message)
            .scalar_subquery()
        )
        query = (
            select(Message, asked)
            .join(
                Conversation,
                and_(
                    Conversation.id == Message.conversation_id,
                    Conversation.workspace_id == self.workspace_id,
                ),
            )
            .where(
                Message.workspace_id == self.workspace_id,
                Message.author_type == AuthorType.agent,
                Message.private.is_(False),
                Message.conversation_id != exclude_conversation_id,
                *_visible(visibility),
            )
            .order_by(Message.id.desc())
            .limit(limit)
        )
        rows = (await self.session.execute(query)).all()
        return [(row[0], row[1]) for row in rows if row[1] is not None]

    async def last_question(self, conversation_id: str) -> Message | None:
        """Return the conversation's latest public customer message (one row, however long
        the conversation)."""
        query = (
            self.base_query()
            .where(
                Message.conversation_id == conversation_id,
                Message.author_type == AuthorType.customer,
                Message.private.is_(False),
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        return await self.one_or_none(query)

    async def with_ids(self, ids: Sequence[str]) -> Sequence[Message]:
        """Return the messages with these ids (of this workspace)."""
        if not ids:
            return []
        return await self.all(self.base_query().where(Message.id.in_(list(ids))))
