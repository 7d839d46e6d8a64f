"""Every SQL statement of routing, business calendars and SLAs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from rapport.core.repository import Repository, TenantRepository
from rapport.support.enums import AgentAvailability, ConversationStatus, SlaEventKind, SlaTarget
from rapport.support.models import Agent, Conversation, TeamMember
from rapport.support.routing_models import Calendar, RoutingSettings, SlaEvent, SlaPolicy


@dataclass(frozen=True)
class WaitingConversation:
    """A conversation of the unassigned queue, as the minute's pass reads it."""

    id: str
    team_id: str | None
    skills: list[str]
    language: str | None


# Statuses that hold a place in an agent's capacity.
HOLDING_CAPACITY = (ConversationStatus.open, ConversationStatus.snoozed)


class RoutingSettingsRepository(TenantRepository[RoutingSettings]):
    model = RoutingSettings

    async def current(self, *, for_update: bool = False) -> RoutingSettings | None:
        """Return the workspace's routing settings, if ever set."""
        query = self.base_query()
        return await self.one_or_none(query.with_for_update() if for_update else query)


class CalendarRepository(TenantRepository[Calendar]):
    model = Calendar

    async def current(self, *, for_update: bool = False) -> Calendar | None:
        """Return the workspace's business calendar, if ever set."""
        query = self.base_query()
        return await self.one_or_none(query.with_for_update() if for_update else query)


class SlaPolicyRepository(TenantRepository[SlaPolicy]):
    model = SlaPolicy

    async def listed(self) -> Sequence[SlaPolicy]:
        """Return every policy in the order they are tried."""
        query = self.prepared(
            "listed", lambda: self.scoped().order_by(SlaPolicy.position, SlaPolicy.name)
        )  # every SLA refresh (a job a message) reads them
        return await self.all(query, self.params())

    async def named(self, name: str) -> SlaPolicy | None:
        """Return the policy with this name."""
        return await self.one_or_none(self.base_query().where(SlaPolicy.name == name))

    async def get_for_update(self, policy_id: str) -> SlaPolicy | None:
        """Return a policy, locked for a change."""
        query = self.base_query().where(SlaPolicy.id == policy_id)
        return await self.one_or_none(query.with_for_update())


class SlaEventRepository(TenantRepository[SlaEvent]):
    """SLA events are only ever added (append-only): there is no update or delete here."""

    model = SlaEvent

    async def of(self, conversation_id: str) -> Sequence[SlaEvent]:
        """Return a conversation's SLA warnings and breaches, in the order recorded."""
        return await self.all(
            self.base_query()
            .where(SlaEvent.conversation_id == conversation_id)
            .order_by(SlaEvent.id)
        )

    async def recorded(self, conversation_id: str) -> set[tuple[SlaTarget, SlaEventKind, datetime]]:
        """Return which (target, kind, deadline) a conversation already has on record."""
        rows = await self.session.execute(
            select(SlaEvent.target, SlaEvent.kind, SlaEvent.due_at).where(
                SlaEvent.workspace_id == self.workspace_id,
                SlaEvent.conversation_id == conversation_id,
            )
        )
        return {(SlaTarget(t), SlaEventKind(k), due) for t, k, due in rows}


class RoutingRepository(TenantRepository[Conversation]):
    """Conversations and agents as routing sees them."""

    model = Conversation

    async def for_routing(self, conversation_id: str) -> Conversation | None:
        """Return a conversation locked while it is routed or changed, its columns read
        afresh under the lock (even when read before in this unit of work)."""
        query = self.id_query(for_update=True, fresh=True)
        return await self.one_or_none(query, self.id_params(conversation_id))

    async def unlocked(self, conversation_id: str) -> Conversation | None:
        """Return a conversation without a lock, to decide whether it needs one."""
        return await self.get(conversation_id)

    async def online_agents(self, team_id: str | None) -> Sequence[Agent]:
        """Return the online agents with capacity (of one team when given), locked in id
        order, so two routings never count the same agent's load at once."""
        query = (
            select(Agent)
            .where(
                Agent.workspace_id == self.workspace_id,
                Agent.availability == AgentAvailability.online,
                Agent.capacity > 0,
            )
            .order_by(Agent.id)
        )
        if team_id is not None:
            members = select(TeamMember.staff_id).where(
                TeamMember.workspace_id == self.workspace_id, TeamMember.team_id == team_id
            )
            query = query.where(Agent.staff_id.in_(members))
        return (await self.session.execute(query.with_for_update())).scalars().all()

    async def loads(self, staff_ids: list[str]) -> dict[str, int]:
        """Return how many open or snoozed conversations each staff member holds."""
        rows = await self.session.execute(
            select(Conversation.assignee_id, func.count())
            .where(
                Conversation.workspace_id == self.workspace_id,
                Conversation.assignee_id.in_(staff_ids),
                Conversation.status.in_(HOLDING_CAPACITY),
                Conversation.merged_into_id.is_(None),
            )
            .group_by(Conversation.assignee_id)
        )
        found = {str(staff_id): int(count) for staff_id, count in rows}
        return {staff_id: found.get(staff_id, 0) for staff_id in staff_ids}

    async def agents_with_room(self) -> list[tuple[Agent, int]]:
        """Return the online agents holding fewer conversations than their capacity, each
        with how many more they may take (unlocked: a routing locks and counts them itself)."""
        query = select(Agent).where(
            Agent.workspace_id == self.workspace_id,
            Agent.availability == AgentAvailability.online,
            Agent.capacity > 0,
        )
        agents = (await self.session.execute(query.order_by(Agent.id))).scalars().all()
        loads = await self.loads([agent.staff_id for agent in agents]) if agents else {}
        return [
            (agent, agent.capacity - loads[agent.staff_id])
            for agent in agents
            if loads[agent.staff_id] < agent.capacity
        ]

    async def teams_of(self, staff_ids: list[str]) -> dict[str, set[str]]:
        """Return the teams each staff member belongs to."""
        rows = await self.session.execute(
            select(TeamMember.staff_id, TeamMember.team_id).where(
                TeamMember.workspace_id == self.workspace_id, TeamMember.staff_id.in_(staff_ids)
            )
        )
        teams: dict[str, set[str]] = {staff_id: set() for staff_id in staff_ids}
        for staff_id, team_id in rows:
            teams[str(staff_id)].add(str(team_id))
        return teams

    async def waiting(self, limit: int, after: str | None = None) -> list[WaitingConversation]:
        """Return open unassigned conversations, oldest first (past the id `after`), with
        what routing needs of them."""
        query = (
            select(
                Conversation.id, Conversation.team_id, Conversation.skills, Conversation.language
            )
            .where(
                Conversation.workspace_id == self.workspace_id,
                Conversation.assignee_id.is_(None),
                Conversation.status == ConversationStatus.open,
                Conversation.merged_into_id.is_(None),
            )
            .order_by(Conversation.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(Conversation.id > after)
        return [
            WaitingConversation(str(id_), team_id, list(skills or []), language)
            for id_, team_id, skills, language in await self.session.execute(query)
        ]

    async def sla_due(self, now: datetime, limit: int) -> list[str]:
        """Return the ids of conversations whose SLA needs a look by `now`."""
        rows = await self.session.execute(
            select(Conversation.id)
            .where(Conversation.workspace_id == self.workspace_id, Conversation.sla_check_at <= now)
            .order_by(Conversation.sla_check_at)
            .limit(limit)
        )
        return [str(row[0]) for row in rows]


class SweepRepository(Repository[RoutingSettings]):
    """What the periodic jobs look at across workspaces: which ones have work to do."""

    model = RoutingSettings

    async def routing_workspaces(self) -> list[str]:
        """Return the workspaces whose routing is on."""
        rows = await self.session.execute(
            select(RoutingSettings.workspace_id).where(RoutingSettings.enabled.is_(True))
        )
        return sorted(str(row[0]) for row in rows)

    async def sla_workspaces(self, now: datetime) -> list[str]:
        """Return the workspaces with a conversation whose SLA needs a look by `now`."""
        rows = await self.session.execute(
            select(Conversation.workspace_id).where(Conversation.sla_check_at <= now).distinct()
        )
        return sorted(str(row[0]) for row in rows)

    async def snoozed_due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """Return (workspace id, conversation id) of snoozed conversations due to reopen."""
        rows = await self.session.execute(
            select(Conversation.workspace_id, Conversation.id)
            .where(
                Conversation.snoozed_until <= now,
                Conversation.status == ConversationStatus.snoozed,
            )
            .order_by(Conversation.snoozed_until)
            .limit(limit)
        )
        return [(str(workspace_id), str(conversation_id)) for workspace_id, conversation_id in rows]
