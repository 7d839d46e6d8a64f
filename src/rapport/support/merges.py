"""Merging two conversations: messages, tags and history kept by the survivor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.support.enums import ConversationStatus
from rapport.support.errors import CannotMergeConversations
from rapport.support.events import CONVERSATION_MERGED
from rapport.support.lifecycle import log
from rapport.support.models import Conversation
from rapport.support.notify import announce
from rapport.support.repository import ConversationRepository
from rapport.support.schemas import Acting
from rapport.support.service import conversations


class ConversationMerges:
    async def merge(
        self,
        session: AsyncSession,
        workspace_id: str,
        conversation_id: str,
        survivor_id: str,
        acting: Acting,
    ) -> Conversation:
        """Merge a conversation into a survivor: its messages and history move there, tags
        join, attributes fill gaps; the merged one is closed and points to the survivor."""
        if conversation_id == survivor_id:
            raise CannotMergeConversations("A conversation cannot be merged into itself.")
        # Locked in id order, so two opposite merges at once cannot deadlock.
        first, second = sorted((conversation_id, survivor_id))
        locked = {
            key: await conversations.get_for_change(session, workspace_id, key, acting)
            for key in (first, second)
        }
        merged, survivor = locked[conversation_id], locked[survivor_id]
        await ConversationRepository(session, workspace_id).move_thread(merged.id, survivor.id)
        survivor.tags = list(dict.fromkeys([*survivor.tags, *merged.tags]))
        survivor.attributes = {**merged.attributes, **survivor.attributes}
        survivor.last_message_at = _latest(survivor, merged)
        if survivor.awaiting_reply_since is None:
            survivor.awaiting_reply_since = merged.awaiting_reply_since
        merged.merged_into_id, merged.status = survivor.id, ConversationStatus.closed
        merged.snoozed_until, merged.updated_at = None, utcnow()
        await log(session, survivor, "merged", acting.actor, merged_id=merged.id)
        await log(session, merged, "merged_into", acting.actor, survivor_id=survivor.id)
        announce(
            session, CONVERSATION_MERGED, workspace_id=workspace_id,
            conversation_id=survivor.id, merged_id=merged.id,
        )  # fmt: skip
        return survivor


def _latest(survivor: Conversation, merged: Conversation) -> datetime | None:
    times = [t for t in (survivor.last_message_at, merged.last_message_at) if t is not None]
    return max(times) if times else None


merges = ConversationMerges()
