"""Every SQL statement of the assistant."""

from __future__ import annotations

from collections.abc import Sequence

from rapport.assistant.models import AssistantSettings, Dialogue
from rapport.core.repository import TenantRepository


class SettingsRepository(TenantRepository[AssistantSettings]):
    model = AssistantSettings

    async def for_channel(
        self, channel: str, *, for_update: bool = False
    ) -> AssistantSettings | None:
        """Return the settings of one channel."""
        query = self.base_query().where(AssistantSettings.channel == channel)
        return await self.one_or_none(query.with_for_update() if for_update else query)

    async def listed(self) -> Sequence[AssistantSettings]:
        """Return every channel's settings, by channel."""
        return await self.all(self.base_query().order_by(AssistantSettings.channel))


class DialogueRepository(TenantRepository[Dialogue]):
    model = Dialogue

    async def of(self, conversation_id: str) -> Dialogue | None:
        """Return a conversation's dialogue (its conversation is locked by the caller)."""
        return await self.one_or_none(
            self.base_query().where(Dialogue.conversation_id == conversation_id)
        )
