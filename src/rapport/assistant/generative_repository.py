"""Every SQL statement of the generative mode's settings."""

from __future__ import annotations

from rapport.assistant.models import GenerativeSettings
from rapport.core.repository import TenantRepository


class GenerativeRepository(TenantRepository[GenerativeSettings]):
    model = GenerativeSettings

    async def current(self, *, for_update: bool = False) -> GenerativeSettings | None:
        """Return the workspace's generative settings, if any were saved."""
        query = self.base_query()
        return await self.one_or_none(query.with_for_update() if for_update else query)
