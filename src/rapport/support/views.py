"""Saved views: inbox filters kept under a name, shared or personal, listed with how many
conversations each shows the caller now."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import take_writer
from rapport.support.repository import ConversationRepository
from rapport.support.schemas import Acting, ConversationFilters, ConversationPage
from rapport.support.service import conversations
from rapport.support.teams import teams
from rapport.support.tools_errors import NameTaken, SavedViewNotFound
from rapport.support.tools_models import SavedView
from rapport.support.tools_ownership import check_may_change, owner_for
from rapport.support.tools_repository import SavedViewRepository
from rapport.support.tools_schemas import SavedViewRead, SavedViewWrite, ViewFilters

# Counting stops here ("1000+"): a busy view costs the sidebar no more than this.
COUNT_CAP = 1000
NOBODY = "0" * 32  # `me` for a caller who is no staff member matches no assignee


def filters_of(view: ViewFilters, acting: Acting) -> ConversationFilters:
    """Return the inbox filters of a view for the caller (`me` is whoever looks)."""
    assignee = view.assignee
    if assignee == "me":
        assignee = acting.staff_id or NOBODY
    return ConversationFilters(
        status=view.status,
        priority=view.priority,
        channel=view.channel,
        team_id=view.team_id,
        assignee_id=None if assignee == "unassigned" else assignee,
        unassigned=assignee == "unassigned",
        tag=view.tag,
        sentiment=view.sentiment,
        intent=view.intent,
    )


class SavedViewService:
    async def list(
        self, session: AsyncSession, workspace_id: str, acting: Acting
    ) -> list[SavedViewRead]:
        """Return the views the caller may use, shared first, each with its count."""
        views = await SavedViewRepository(session, workspace_id).listed(acting.staff_id)
        visibility = await teams.visibility(session, workspace_id, acting.staff_id)
        repository = ConversationRepository(session, workspace_id)
        found = []
        for view in views:
            filters = filters_of(ViewFilters.model_validate(view.filters), acting)
            count = await repository.counted(filters, visibility, COUNT_CAP + 1)
            found.append(_read(view, min(count, COUNT_CAP), count > COUNT_CAP))
        return found

    async def get(
        self, session: AsyncSession, workspace_id: str, view_id: str, acting: Acting
    ) -> SavedView:
        """Return a view the caller may use."""
        found = await SavedViewRepository(session, workspace_id).usable(view_id, acting.staff_id)
        if found is None:
            raise SavedViewNotFound("No such saved view in this workspace.")
        return found

    async def conversations(
        self,
        session: AsyncSession,
        workspace_id: str,
        view_id: str,
        acting: Acting,
        cursor: str | None = None,
        limit: int = 50,
    ) -> ConversationPage:
        """Return one page of a view's conversations (those the caller may see), newest first."""
        view = await self.get(session, workspace_id, view_id, acting)
        filters = filters_of(ViewFilters.model_validate(view.filters), acting)
        return await conversations.page(session, workspace_id, filters, acting, cursor, limit)

    async def create(
        self,
        session: AsyncSession,
        workspace_id: str,
        body: SavedViewWrite,
        acting: Acting,
        may_share: bool,
    ) -> SavedViewRead:
        """Save a view, shared or the caller's own."""
        owner_id = owner_for(body.shared, acting, may_share)
        await self._check(session, workspace_id, body, owner_id, None)
        filters = body.filters.model_dump(mode="json", exclude_none=True)
        view = SavedView(owner_id=owner_id, name=body.name, filters=filters)
        view = await SavedViewRepository(session, workspace_id).add(view)
        return _read(view, 0, False)

    async def delete(
        self,
        session: AsyncSession,
        workspace_id: str,
        view_id: str,
        acting: Acting,
        may_share: bool,
    ) -> None:
        """Delete a saved view."""
        view = await self.get(session, workspace_id, view_id, acting)
        check_may_change(view, acting, may_share)
        await SavedViewRepository(session, workspace_id).delete(view)

    async def _check(
        self,
        session: AsyncSession,
        workspace_id: str,
        body: SavedViewWrite,
        owner_id: str | None,
        own_id: str | None,
    ) -> None:
        if body.filters.team_id is not None:
            await teams.get(session, workspace_id, body.filters.team_id)
        if body.filters.assignee not in (None, "me", "unassigned"):
            await teams.check_member(session, workspace_id, body.filters.assignee)
        await take_writer(session)  # the name check and the write form one write
        same = await SavedViewRepository(session, workspace_id).named(owner_id, body.name)
        if same is not None and same.id != own_id:
            raise NameTaken(f"A view is already called {body.name!r}.")


def _read(view: SavedView, count: int, more: bool) -> SavedViewRead:
    return SavedViewRead(
        id=view.id,
        name=view.name,
        filters=ViewFilters.model_validate(view.filters),
        owner_id=view.owner_id,
        count=count,
        more=more,
    )


saved_views = SavedViewService()
