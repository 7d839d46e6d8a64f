"""The desk right now: open and unassigned conversations, the longest wait, agents online."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc, utcnow
from rapport.core.repository import TenantRepository
from rapport.identity.service import staff
from rapport.support.enums import ConversationStatus
from rapport.support.models import Conversation
from rapport.support.schemas import Acting, Visibility
from rapport.support.teams import teams
from rapport.support.widget import PRESENCE_WINDOW


@dataclass(frozen=True)
class LiveDesk:
    """What the dashboard's live tile shows (conversations the caller may see)."""

    open: int
    unassigned: int
    waiting_since: datetime | None
    agents_online: int
    at: datetime

    @property
    def waiting_seconds(self) -> float | None:
        """Return how long the longest-waiting open conversation has waited for an answer."""
        if self.waiting_since is None:
            return None
        return max(0.0, (self.at - as_utc(self.waiting_since)).total_seconds())


class LiveRepository(TenantRepository[Conversation]):
    model = Conversation

    async def open_figures(self, visibility: Visibility) -> tuple[int, int, datetime | None]:
        """Count open unmerged conversations, those unassigned, and the oldest unanswered."""
        query = select(
            func.count(),
            func.coalesce(func.sum(case((Conversation.assignee_id.is_(None), 1), else_=0)), 0),
            func.min(Conversation.awaiting_reply_since),
        ).where(
            Conversation.workspace_id == self.workspace_id,
            Conversation.status == ConversationStatus.open,
            Conversation.merged_into_id.is_(None),
        )
        if visibility.team_ids is not None:
            query = query.where(
                Conversation.team_id.in_(visibility.team_ids)
                | (Conversation.assignee_id == visibility.staff_id)
            )
        row = (await self.session.execute(query)).one()
        return int(row[0]), int(row[1]), row[2]


async def live_desk(session: AsyncSession, workspace_id: str, acting: Acting) -> LiveDesk:
    """Return the open, unassigned and longest-waiting conversations the caller may see, and
    how many staff members have the console open."""
    visibility = await teams.visibility(session, workspace_id, acting.staff_id)
    opened, unassigned, since = await LiveRepository(session, workspace_id).open_figures(visibility)
    online = await staff.online_ids(session, workspace_id, PRESENCE_WINDOW)
    return LiveDesk(opened, unassigned, since, len(online), utcnow())
