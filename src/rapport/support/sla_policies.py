"""SLA policies: their targets in business minutes and which conversations they match."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import take_writer
from rapport.support.errors import SlaPolicyNameTaken, SlaPolicyNotFound
from rapport.support.routing_models import SlaPolicy
from rapport.support.routing_repository import SlaPolicyRepository
from rapport.support.routing_schemas import SlaPolicyCreate, SlaPolicyRead


class SlaPolicyService:
    async def list(self, session: AsyncSession, workspace_id: str) -> list[SlaPolicyRead]:
        """Return every policy in the order they are tried."""
        found = await SlaPolicyRepository(session, workspace_id).listed()
        return [SlaPolicyRead.model_validate(policy) for policy in found]

    async def create(
        self, session: AsyncSession, workspace_id: str, body: SlaPolicyCreate
    ) -> SlaPolicyRead:
        """Add a policy with a name no other policy of the workspace has."""
        await take_writer(session)  # the name check and the insert form one write
        repository = SlaPolicyRepository(session, workspace_id)
        if await repository.named(body.name) is not None:
            raise SlaPolicyNameTaken(f"An SLA policy is already called {body.name!r}.")
        policy = await repository.add(SlaPolicy(**body.model_dump(mode="json")))
        return SlaPolicyRead.model_validate(policy)

    async def replace(
        self, session: AsyncSession, workspace_id: str, policy_id: str, body: SlaPolicyCreate
    ) -> SlaPolicyRead:
        """Change a policy's conditions and targets (conversations follow at their next change)."""
        await take_writer(session)
        repository = SlaPolicyRepository(session, workspace_id)
        policy = await self._get(repository, policy_id)
        other = await repository.named(body.name)
        if other is not None and other.id != policy.id:
            raise SlaPolicyNameTaken(f"An SLA policy is already called {body.name!r}.")
        for field, value in body.model_dump(mode="json").items():
            setattr(policy, field, value)
        await session.flush()
        return SlaPolicyRead.model_validate(policy)

    async def delete(self, session: AsyncSession, workspace_id: str, policy_id: str) -> None:
        """Remove a policy (its recorded warnings and breaches stay)."""
        repository = SlaPolicyRepository(session, workspace_id)
        await repository.delete(await self._get(repository, policy_id))

    async def _get(self, repository: SlaPolicyRepository, policy_id: str) -> SlaPolicy:
        policy = await repository.get_for_update(policy_id)
        if policy is None:
            raise SlaPolicyNotFound("No such SLA policy in this workspace.")
        return policy


sla_policies = SlaPolicyService()
