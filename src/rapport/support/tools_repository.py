"""Every SQL statement of the agent tools: canned responses, macros, saved views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, func, or_

from rapport.core.repository import TenantRepository
from rapport.support.tools_models import CannedResponse, Macro, SavedView

Tool = TypeVar("Tool", CannedResponse, Macro, SavedView)
SEARCH_LIMIT = 20


class ToolRepository(TenantRepository[Tool], Generic[Tool]):
    """Shared tools and one staff member's own (`staff_id` None: shared ones only)."""

    def _usable(self, staff_id: str | None) -> ColumnElement[bool]:
        if staff_id is None:
            return self.model.owner_id.is_(None)
        return or_(self.model.owner_id.is_(None), self.model.owner_id == staff_id)

    async def usable(self, tool_id: str, staff_id: str | None) -> Tool | None:
        """Return a tool the caller may use."""
        query = self.base_query().where(self.model.id == tool_id, self._usable(staff_id))
        return await self.one_or_none(query)


class CannedResponseRepository(ToolRepository[CannedResponse]):
    model = CannedResponse

    async def listed(self, staff_id: str | None, search: str | None) -> Sequence[CannedResponse]:
        """Return usable canned responses by shortcut; with `search`, those whose shortcut
        starts with it first, then those whose title holds it (at most SEARCH_LIMIT)."""
        query = self.base_query().where(self._usable(staff_id))
        if not search:
            return await self.all(query.order_by(CannedResponse.shortcut, CannedResponse.id))
        pattern = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        prefix = CannedResponse.shortcut.like(f"{pattern}%", escape="\\")
        titled = func.lower(CannedResponse.title).like(f"%{pattern.lower()}%", escape="\\")
        query = query.where(or_(prefix, titled)).order_by(
            (~prefix).asc(), CannedResponse.shortcut, CannedResponse.id
        )
        return await self.all(query.limit(SEARCH_LIMIT))

    async def with_shortcut(self, owner_id: str | None, shortcut: str) -> CannedResponse | None:
        """Return the owner's (or the shared) canned response with this shortcut."""
        owner = _owned_by(CannedResponse, owner_id)
        query = self.base_query().where(owner, CannedResponse.shortcut == shortcut)
        return await self.one_or_none(query.limit(1))


class MacroRepository(ToolRepository[Macro]):
    model = Macro

    async def listed(self, staff_id: str | None) -> Sequence[Macro]:
        """Return usable macros by name."""
        query = self.base_query().where(self._usable(staff_id))
        return await self.all(query.order_by(Macro.name, Macro.id))

    async def named(self, owner_id: str | None, name: str) -> Macro | None:
        """Return the owner's (or the shared) macro with this name."""
        query = self.base_query().where(_owned_by(Macro, owner_id), Macro.name == name)
        return await self.one_or_none(query.limit(1))


class SavedViewRepository(ToolRepository[SavedView]):
    model = SavedView

    async def listed(self, staff_id: str | None) -> Sequence[SavedView]:
        """Return usable saved views: shared ones first, then by name."""
        query = self.base_query().where(self._usable(staff_id))
        shared_first = SavedView.owner_id.is_not(None)
        return await self.all(query.order_by(shared_first, SavedView.name, SavedView.id))

    async def named(self, owner_id: str | None, name: str) -> SavedView | None:
        """Return the owner's (or the shared) view with this name."""
        query = self.base_query().where(_owned_by(SavedView, owner_id), SavedView.name == name)
        return await self.one_or_none(query.limit(1))


def _owned_by(
    model: type[CannedResponse] | type[Macro] | type[SavedView], owner_id: str | None
) -> ColumnElement[bool]:
    return model.owner_id.is_(None) if owner_id is None else model.owner_id == owner_id
