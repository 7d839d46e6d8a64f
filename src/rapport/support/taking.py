"""An agent takes a conversation: assigns it to themselves in one click, through the same
assignment as a supervisor's (history, domain event, pushes)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.errors import Forbidden
from rapport.support.models import Conversation
from rapport.support.schemas import Acting, AssignmentChange
from rapport.support.service import conversations
from rapport.support.tools_errors import ConversationTaken


async def take(
    session: AsyncSession,
    workspace_id: str,
    conversation_id: str,
    acting: Acting,
    may_assign: bool,
) -> Conversation:
    """Assign a conversation to the caller; one held by a colleague only with the right to
    reassign (supervisors and up)."""
    if acting.staff_id is None:
        raise Forbidden("Only a staff member takes a conversation.")
    conversation = await conversations.get_for_change(
        session, workspace_id, conversation_id, acting
    )
    if conversation.assignee_id == acting.staff_id:
        return conversation
    if conversation.assignee_id is not None and not may_assign:
        raise ConversationTaken("A colleague has this conversation; ask a supervisor.")
    change = AssignmentChange(assignee_id=acting.staff_id)
    return await conversations.assign(session, workspace_id, conversation_id, change, acting)
