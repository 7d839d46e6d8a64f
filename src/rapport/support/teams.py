"""Teams, their members, and agents limited to their teams' conversations."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import take_writer
from rapport.identity.service import staff
from rapport.support.errors import StaffNotInWorkspace, TeamNameTaken, TeamNotFound
from rapport.support.models import Agent, Team, TeamMember
from rapport.support.repository import AgentRepository, TeamMemberRepository, TeamRepository
from rapport.support.schemas import AgentRead, TeamRead, Visibility


class TeamService:
    async def create(self, session: AsyncSession, workspace_id: str, name: str) -> TeamRead:
        """Create a team with a name no other team of the workspace has."""
        await take_writer(session)  # the name check and the insert form one write
        repository = TeamRepository(session, workspace_id)
        name = name.strip()
        if await repository.named(name) is not None:
            raise TeamNameTaken(f"A team is already called {name!r}.")
        team = await repository.add(Team(name=name))
        return TeamRead(id=team.id, name=team.name, member_ids=[])

    async def list(self, session: AsyncSession, workspace_id: str) -> list[TeamRead]:
        """Return every team with its members."""
        found = list(await TeamRepository(session, workspace_id).listed())
        members = await TeamMemberRepository(session, workspace_id).of_teams([t.id for t in found])
        return [
            TeamRead(
                id=team.id,
                name=team.name,
                member_ids=[member.staff_id for member in members if member.team_id == team.id],
            )
            for team in found
        ]

    async def get(self, session: AsyncSession, workspace_id: str, team_id: str) -> Team:
        """Return a team of this workspace."""
        team = await TeamRepository(session, workspace_id).get(team_id)
        if team is None:
            raise TeamNotFound("No such support team in this workspace.")
        return team

    async def add_member(
        self, session: AsyncSession, workspace_id: str, team_id: str, staff_id: str
    ) -> TeamRead:
        """Put a staff member of the workspace in a team (once)."""
        await take_writer(session)
        team = await self.get(session, workspace_id, team_id)
        await self.check_member(session, workspace_id, staff_id)
        members = TeamMemberRepository(session, workspace_id)
        if await members.find(team.id, staff_id) is None:
            await members.add(TeamMember(team_id=team.id, staff_id=staff_id))
        return await self._read(session, workspace_id, team)

    async def remove_member(
        self, session: AsyncSession, workspace_id: str, team_id: str, staff_id: str
    ) -> TeamRead:
        """Take a staff member out of a team (nothing happens when they are not in it)."""
        team = await self.get(session, workspace_id, team_id)
        await self.check_member(session, workspace_id, staff_id)
        members = TeamMemberRepository(session, workspace_id)
        member = await members.find(team.id, staff_id)
        if member is not None:
            await members.delete(member)
        return await self._read(session, workspace_id, team)

    async def agent(self, session: AsyncSession, workspace_id: str, staff_id: str) -> AgentRead:
        """Return a staff member's support settings and teams."""
        await self.check_member(session, workspace_id, staff_id)
        agent = await AgentRepository(session, workspace_id).for_staff(staff_id)
        return AgentRead(
            staff_id=staff_id,
            limited_to_teams=agent is not None and agent.limited_to_teams,
            team_ids=await TeamMemberRepository(session, workspace_id).team_ids_of(staff_id),
        )

    async def limit_agent(
        self, session: AsyncSession, workspace_id: str, staff_id: str, limited: bool
    ) -> AgentRead:
        """Limit a staff member to their teams' conversations, or lift the limit."""
        await take_writer(session)
        await self.check_member(session, workspace_id, staff_id)
        agents = AgentRepository(session, workspace_id)
        agent = await agents.for_staff(staff_id, for_update=True)
        if agent is None:
            agent = await agents.add(Agent(staff_id=staff_id, limited_to_teams=limited))
        agent.limited_to_teams = limited
        return await self.agent(session, workspace_id, staff_id)

    async def visibility(
        self, session: AsyncSession, workspace_id: str, staff_id: str | None
    ) -> Visibility:
        """Return which conversations a staff member may see (everyone else: all of them)."""
        if staff_id is None:
            return Visibility()
        agent = await AgentRepository(session, workspace_id).for_staff(staff_id)
        if agent is None or not agent.limited_to_teams:
            return Visibility(staff_id=staff_id)
        team_ids = await TeamMemberRepository(session, workspace_id).team_ids_of(staff_id)
        return Visibility(staff_id=staff_id, team_ids=tuple(team_ids))

    async def check_member(self, session: AsyncSession, workspace_id: str, staff_id: str) -> None:
        """Refuse a staff id that is no member of the workspace."""
        if await staff.role_in(session, workspace_id, staff_id) is None:
            raise StaffNotInWorkspace("No such staff member in this workspace.")

    async def _read(self, session: AsyncSession, workspace_id: str, team: Team) -> TeamRead:
        members = await TeamMemberRepository(session, workspace_id).of_teams([team.id])
        return TeamRead(id=team.id, name=team.name, member_ids=[m.staff_id for m in members])


teams = TeamService()
