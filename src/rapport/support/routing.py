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
from rapport.support.routing_repository import (
    RoutingRepository,
    RoutingSettingsRepository,
    WaitingConversation,
)
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
# Unassigned conversations read at a time by the minute's pass over the queue.
WAITING_PAGE = 500
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

    async def waiting_to_route(self, session: AsyncSession, workspace_id: str) -> list[str]:
        """Return the conversations of the unassigned queue worth routing now, oldest first:
        each one an agent online with room could take (team, skills, language), as many as
        those agents have room for, given as `route` would give them (its ranking, each
        agent's load counted up as it goes). Nothing is locked: each is routed in a job of
        its own (`route`), as a conversation that starts waiting is. Conversations nobody
        could take (a skill nobody has) are passed over, so they never keep the ones behind
        them from an agent. Routing off, closed hours or an empty queue cost a look or two."""
        settings = await RoutingSettingsRepository(session, workspace_id).current()
        if settings is None or not settings.enabled:
            return []
        if not is_open(await calendars.load(session, workspace_id), utcnow()):
            return []
        repository = RoutingRepository(session, workspace_id)
        page = await repository.waiting(WAITING_PAGE)
        if not page:
            return []
        with_room = await repository.agents_with_room()
        members = await staff.members_among(
            session, workspace_id, [agent.staff_id for agent, _ in with_room]
        )
        pool = _Pool([(agent, room) for agent, room in with_room if agent.staff_id in members])
        if not pool.room:
            return []
        pool.teams = await repository.teams_of(list(pool.room))
        chosen: list[str] = []
        while True:
            for conversation in page:
                if pool.give(conversation, settings.mode):
                    chosen.append(conversation.id)
                    if not pool.room:
                        return chosen
            if len(page) < WAITING_PAGE:
                return chosen
            page = await repository.waiting(WAITING_PAGE, page[-1].id)

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


class _Pool:
    """The agents with room, as the minute's pass hands them conversations in its head."""

    def __init__(self, agents: list[tuple[Agent, int]]) -> None:
        self.agents = [agent for agent, _ in agents]
        self.room = {agent.staff_id: room for agent, room in agents}
        self.load = {agent.staff_id: agent.capacity - room for agent, room in agents}
        self.last: dict[str, tuple[datetime, int]] = {
            agent.staff_id: (_as_aware(agent.last_assigned_at), 0) for agent in self.agents
        }
        self.teams: dict[str, set[str]] = {}
        self._able: dict[tuple[object, ...], list[Agent]] = {}
        self._given = 0

    def give(self, conversation: WaitingConversation, mode: RoutingMode) -> bool:
        """Give the conversation to the agent `route` would pick, if any has room."""
        need = (conversation.team_id, tuple(sorted(conversation.skills)), conversation.language)
        able = self._able.get(need)
        if able is None:
            able = self._able[need] = [
                agent
                for agent in self.agents
                if _suits(agent, conversation)
                and _in_team(self.teams.get(agent.staff_id, set()), conversation.team_id)
            ]
        free = [agent for agent in able if self.room.get(agent.staff_id)]
        if not free:
            return False
        taker = min(free, key=lambda agent: self._rank(agent, mode)).staff_id
        self._given += 1
        self.room[taker] -= 1
        self.load[taker] += 1
        self.last[taker] = (utcnow(), self._given)
        if not self.room[taker]:
            del self.room[taker]
        return True

    def _rank(self, agent: Agent, mode: RoutingMode) -> tuple[object, ...]:
        staff_id = agent.staff_id
        return _ranking(self.last[staff_id], self.load[staff_id], staff_id, mode)


def waiting(conversation: Conversation) -> bool:
    """Tell whether a conversation is in the unassigned queue."""
    return (
        conversation.assignee_id is None
        and conversation.status == ConversationStatus.open
        and conversation.merged_into_id is None
    )


def _suits(agent: Agent, conversation: Conversation | WaitingConversation) -> bool:
    """Tell whether the agent holds every skill the conversation needs and speaks its language."""
    if not set(conversation.skills or []) <= set(agent.skills or []):
        return False
    return conversation.language is None or conversation.language in (agent.languages or [])


def _in_team(teams: set[str], team_id: str | None) -> bool:
    """Tell whether an agent of these teams may take a conversation of this team (any, when
    it has none), as `RoutingRepository.online_agents` selects them."""
    return team_id is None or team_id in teams


def _as_aware(moment: datetime | None) -> datetime:
    last = moment or _NEVER
    return last if last.tzinfo is not None else last.replace(tzinfo=UTC)


def _rank(agent: Agent, load: int, mode: RoutingMode) -> tuple[object, ...]:
    return _ranking(_as_aware(agent.last_assigned_at), load, agent.staff_id, mode)


def _ranking(last: object, load: int, staff_id: str, mode: RoutingMode) -> tuple[object, ...]:
    """Round robin: assigned longest ago first; least loaded: fewest held, then the same."""
    if mode == RoutingMode.least_loaded:
        return (load, last, staff_id)
    return (last, staff_id)


routing = RoutingService()
