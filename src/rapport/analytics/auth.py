"""Who may read metrics, and which figures each caller sees."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends

from rapport.analytics.service import MetricsFilters
from rapport.core.deps import SessionDep
from rapport.errors import Forbidden
from rapport.identity.auth import authorize
from rapport.identity.enums import ActorType, Role, Scope
from rapport.identity.schemas import Principal
from rapport.support.teams import teams


class OtherAgentsFigures(Forbidden):
    """Agents read their own figures only."""


class WholeWorkspaceOnly(Forbidden):
    """A report of the whole workspace (the assistant's) is for those who see all of it."""


@dataclass(frozen=True)
class MetricsViewer:
    """A caller allowed to read metrics, with what they may see: an agent only their own
    figures; an agent limited to their teams only those teams' (API keys, which only
    admins create, and everyone else: the whole workspace)."""

    principal: Principal
    own_staff_id: str | None
    within_team_ids: tuple[str, ...] | None

    def narrow(self, filters: MetricsFilters) -> MetricsFilters:
        """Return `filters` limited to what this viewer may see."""
        if self.own_staff_id is not None:
            if filters.staff_id not in (None, self.own_staff_id):
                raise OtherAgentsFigures("Agents read their own figures only.")
            filters = replace(filters, staff_id=self.own_staff_id)
        return replace(filters, within_team_ids=self.within_team_ids)

    def whole_workspace(self) -> None:
        """Refuse a caller who sees less than the whole workspace (an agent, a supervisor
        limited to their teams): the assistant's conversations are nobody's yet."""
        if self.own_staff_id is not None or self.within_team_ids is not None:
            raise WholeWorkspaceOnly(
                "The assistant's report covers the whole workspace: ask an admin, or a "
                "supervisor who sees every team."
            )


async def metrics_viewer(
    principal: Annotated[Principal, Depends(authorize(Scope.metrics_read))], session: SessionDep
) -> MetricsViewer:
    """Admit callers holding `metrics:read` and work out what they may see."""
    if principal.actor_type != ActorType.staff:
        return MetricsViewer(principal, None, None)
    visibility = await teams.visibility(session, principal.workspace_id, principal.actor_id)
    own = principal.actor_id if principal.role == Role.agent else None
    return MetricsViewer(principal, own, visibility.team_ids)


MetricsRead = Annotated[MetricsViewer, Depends(metrics_viewer)]
