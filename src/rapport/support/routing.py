"""Automatic assignment: the routing settings, each agent's capacity, skills, languages and
availability, and picking an agent for a waiting conversation (round robin or least loaded)
within business hours."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.db import take_writer
from rapport.identity.service import staff
from rapport.support.calendars import is_open
from rapport.support.enums import AgentAvailability, ConversationStatus, RoutingMode
from rapport.support.models import Agent, Conversation
from rapport.support.repository import AgentRepository
from rapport.support.routing_calendar import calendars
from rapport.support.routing_models import RoutingSettings
from rapport.support.routing_repository import RoutingRepository, RoutingSettingsRepository
from rapport.support.routing_schemas import (
    AgentRoutingRead,
    AgentRoutingUpdate,
    RoutingSettingsRead,
    RoutingSettingsUpdate,
)
from rapport.support.schemas import Acting, AssignmentChange
from rapport.support.service import conversations
from rapport.support.teams import teams

ROUTING = Acting(actor="system:routing")
# Conversations of the unassigned queue one job tries (a full page queues the next at once).
WAITING_BATCH = 50
_NEVER = datetime.min.replace(tzinfo=UTC)


class RoutingService:
    async def settings(self, session: AsyncSession, workspace_id: str) -> RoutingSettingsRead:
        """Return whether routing is on and its mode (off until set)."""
        stored = await RoutingSettingsRepository(session, workspace_id).current()
        if stored is None:
            return RoutingSettingsRead(enabled=False, mode=RoutingMode.round_robin)
        return RoutingSettingsRead(enabled=stored.enabled, mode=stored.mode)

    async def configure(
        self, session: AsyncSession, workspace_id: str, body: RoutingSettingsUpdate
    ) -> RoutingSettingsRead:
        """Turn routing on or off and choose its mode."""
        await take_writer(session)
        repository = RoutingSettingsRepository(session, workspace_id)
        stored = await repository.current(for_update=True)
        if stored is None:
            stored = await repository.add(RoutingSettings(enabled=body.enabled, mode=body.mode))
        stored.enabled, stored.mode = body.enabled, body.mode
        return RoutingSettingsRead(enabled=stored.enabled, mode=stored.mode)

    async def agent(
        self, session: AsyncSession, workspace_id: str, staff_id: str
    ) -> AgentRoutingRead:
        """Return a staff member's routing settings, availability and current load."""
        await teams.check_member(session, workspace_id, staff_id)
        agent = await AgentRepository(session, workspace_id).for_staff(staff_id)
        load = (await RoutingRepository(session, workspace_id).loads([staff_id]))[staff_id]
        if agent is None:
            agent = Agent(staff_id=staff_id, capacity=5, skills=[], languages=[])
            agent.availability = AgentAvailability.away
        return AgentRoutingRead(
            staff_id=staff_id,
            availability=agent.availability,
            capacity=agent.capacity,
            skills=list(agent.skills),
            languages=list(agent.languages),
            load=load,
            last_assigned_at=agent.last_assigned_at,
        )

    async def configure_agent(
        self, session: AsyncSession, workspace_id: str, staff_id: str, body: AgentRoutingUpdate
    ) -> AgentRoutingRead:
        """Set a staff member's capacity, skills and languages."""
        agent = await self._agent_for_change(session, workspace_id, staff_id)
        agent.capacity = body.capacity
        agent.skills = list(dict.fromkeys(body.skills))
        agent.languages = list(dict.fromkeys(body.languages))
        return await self.agent(session, workspace_id, staff_id)

    async def set_availability(
        self,
        session: AsyncSession,
        workspace_id: str,
        staff_id: str,
        availability: AgentAvailability,
    ) -> AgentRoutingRead:
        """Mark a staff member online (takes new conversations) or away."""
        agent = await self._agent_for_change(session, workspace_id, staff_id)
        agent.availability = availability
        return await self.agent(session, workspace_id, staff_id)

    async def route(
        self, session: AsyncSession, workspace_id: str, conversation_id: str
    ) -> str | None:
        """Assign a waiting conversation to the best agent free now; return who, or None
        when it stays in the unassigned queue (routing off, closed hours, nobody free)."""
        settings = await RoutingSettingsRepository(session, workspace_id).current()
        if settings is None or not settings.enabled:
            return None
        await take_writer(session)  # SQLite: one routing at a time; PostgreSQL: row locks
        repository = RoutingRepository(session, workspace_id)
        conversation = await repository.for_routing(conversation_id)
        if conversation is None or not waiting(conversation):
            return None
        if not is_open(await calendars.load(session, workspace_id), utcnow()):
            return None
        for agent in await self._ranked(repository, conversation, settings.mode):
            if await staff.role_in(session, workspace_id, agent.staff_id) is not None:
                agent.last_assigned_at = utcnow()
                change = AssignmentChange(assignee_id=agent.staff_id)
                await conversations.assign(session, workspace_id, conversation.id, change, ROUTING)
                return agent.staff_id
        return None

    async def route_waiting(
        self, session: AsyncSession, workspace_id: str, after: str | None = None
    ) -> str | None:
        """Try a page of the unassigned queue, oldest first (past the conversation `after`
        when given); return the last one tried when the queue goes on, else None. Closed
        hours, or no agent online with room (every one full at a peak), end the pass at once:
        nothing could be routed, and a long queue costs one look, not a try each."""
        repository = RoutingRepository(session, workspace_id)
        if not await repository.anyone_free():
            return None
        if not is_open(await calendars.load(session, workspace_id), utcnow()):
            return None
        waiting_ids = await repository.waiting(WAITING_BATCH, after)
        for conversation_id in waiting_ids:
            await self.route(session, workspace_id, conversation_id)
        return waiting_ids[-1] if len(waiting_ids) == WAITING_BATCH else None

    async def _ranked(
        self, repository: RoutingRepository, conversation: Conversation, mode: RoutingMode
    ) -> list[Agent]:
        """Return the agents who may take the conversation now, best first."""
        agents = await repository.online_agents(conversation.team_id)
        able = [agent for agent in agents if _suits(agent, conversation)]
        loads = await repository.loads([agent.staff_id for agent in able])
        free = [agent for agent in able if loads[agent.staff_id] < agent.capacity]
        return sorted(free, key=lambda agent: _rank(agent, loads[agent.staff_id], mode))

    async def _agent_for_change(
        self, session: AsyncSession, workspace_id: str, staff_id: str
    ) -> Agent:
        await take_writer(session)
        await teams.check_member(session, workspace_id, staff_id)
        agents = AgentRepository(session, workspace_id)
        agent = await agents.for_staff(staff_id, for_update=True)
        if agent is None:
            agent = await agents.add(Agent(staff_id=staff_id, limited_to_teams=False))
        return agent


def waiting(conversation: Conversation) -> bool:
    """Tell whether a conversation is in the unassigned queue."""
    return (
        conversation.assignee_id is None
        and conversation.status == ConversationStatus.open
        and conversation.merged_into_id is None
    )


def _suits(agent: Agent, conversation: Conversation) -> bool:
    """Tell whether the agent holds every skill the conversation needs and speaks its language."""
    if not set(conversation.skills or []) <= set(agent.skills):
        return False
    return conversation.language is None or conversation.language in agent.languages


def _rank(agent: Agent, load: int, mode: RoutingMode) -> tuple[object, ...]:
    last = agent.last_assigned_at or _NEVER
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if mode == RoutingMode.least_loaded:
        return (load, last, agent.staff_id)
    return (last, agent.staff_id)


routing = RoutingService()
