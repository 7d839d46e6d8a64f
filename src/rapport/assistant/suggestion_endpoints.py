"""HTTP: agent assist, replies suggested for a conversation (read like the conversation)."""

from __future__ import annotations

from fastapi import APIRouter

from rapport.assistant.suggestion_schemas import SuggestedReplies
from rapport.assistant.suggestions import suggester
from rapport.core.deps import DatabaseDep, SettingsDep
from rapport.errors import error_responses
from rapport.support.auth import ConversationId, ConversationsRead, acting
from rapport.support.errors import ConversationNotFound

router = APIRouter(tags=["assistant"])


@router.get(
    "/conversations/{conversation_id}/suggested-replies",
    response_model=SuggestedReplies,
    responses=error_responses(ConversationNotFound),
)
async def suggest_replies(
    conversation_id: ConversationId,
    principal: ConversationsRead,
    database: DatabaseDep,
    settings: SettingsDep,
) -> SuggestedReplies:
    """Suggest up to three replies to the customer's last message: agents' answers to similar
    questions, canned responses filled for the conversation, the best article. Nothing is
    sent; team limits apply as to reading the conversation."""
    return await suggester.suggest(
        database, principal.workspace_id, conversation_id, acting(principal),
        link_base=settings.base_url,
    )  # fmt: skip
