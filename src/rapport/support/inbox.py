"""The agent console's reads: named inbox views over the conversations a staff member may
see, a conversation's whole thread, and a customer's other conversations."""

from __future__ import annotations

import enum
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.support.repository import TeamMemberRepository
from rapport.support.schemas import (
    Acting,
    ConversationFilters,
    ConversationPage,
    ConversationRead,
    MessageRead,
)
from rapport.support.service import conversations

INBOX_PAGE = 50
# A thread longer than this shows its first messages only (the API pages through the rest).
THREAD_LIMIT = 1000
PAST_LIMIT = 10


class InboxView(enum.StrEnum):
    """Which conversations an inbox lists, before its status, priority and channel filters."""

    mine = "mine"
    unassigned = "unassigned"
    team = "team"
    all = "all"


class InboxService:
    async def page(
        self,
        session: AsyncSession,
        workspace_id: str,
        view: InboxView,
        filters: ConversationFilters,
        acting: Acting,
        cursor: str | None = None,
    ) -> ConversationPage:
        """Return one page of a view's conversations (those the caller may see), newest first."""
        if view in (InboxView.mine, InboxView.team) and acting.staff_id is None:
            return ConversationPage(items=[], next_cursor=None)  # only staff have their own
        if view == InboxView.mine:
            filters = replace(filters, assignee_id=acting.staff_id)
        elif view == InboxView.unassigned:
            filters = replace(filters, unassigned=True)
        elif view == InboxView.team and acting.staff_id is not None:
            members = TeamMemberRepository(session, workspace_id)
            filters = replace(filters, team_ids=tuple(await members.team_ids_of(acting.staff_id)))
        return await conversations.page(
            session, workspace_id, filters, acting, cursor, limit=INBOX_PAGE
        )

    async def thread(
        self, session: AsyncSession, workspace_id: str, conversation_id: str, acting: Acting
    ) -> list[MessageRead]:
        """Return a conversation's messages and notes, oldest first (up to THREAD_LIMIT)."""
        found: list[MessageRead] = []
        cursor = None
        while len(found) < THREAD_LIMIT:
            page = await conversations.messages(
                session, workspace_id, conversation_id, acting, cursor, limit=200
            )
            found.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        return found[:THREAD_LIMIT]

    async def past(
        self,
        session: AsyncSession,
        workspace_id: str,
        conversation: ConversationRead,
        acting: Acting,
    ) -> list[ConversationRead]:
        """Return the same customer's other conversations the caller may see, newest first."""
        if conversation.customer_id is None:
            return []
        filters = ConversationFilters(customer_id=conversation.customer_id)
        page = await conversations.page(
            session, workspace_id, filters, acting, limit=PAST_LIMIT + 1
        )
        return [item for item in page.items if item.id != conversation.id][:PAST_LIMIT]


inbox = InboxService()
