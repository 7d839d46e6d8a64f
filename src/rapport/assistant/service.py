"""Assistant settings per workspace and channel, and who owns a new conversation."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.assistant.models import AssistantSettings
from rapport.assistant.repository import SettingsRepository
from rapport.assistant.schemas import (
    DEFAULT_CONFIDENCE,
    DEFAULT_KNOWLEDGE,
    DEFAULT_NAME,
    DEFAULT_NEGATIVE,
    AssistantSettingsList,
    AssistantSettingsRead,
    AssistantSettingsUpdate,
)
from rapport.core.clock import utcnow
from rapport.core.db import take_writer
from rapport.core.recent import SETTINGS_SECONDS, Recent
from rapport.identity.audit import Actor, audit
from rapport.support.enums import Channel

FIELDS = tuple(AssistantSettingsUpdate.model_fields)
# Every message reads its channel's settings: kept a few seconds (core.recent).
_recent: Recent[tuple[str, str], AssistantSettingsRead] = Recent(SETTINGS_SECONDS)


class AssistantService:
    async def settings(
        self, session: AsyncSession, workspace_id: str, channel: Channel
    ) -> AssistantSettingsRead:
        """Return a channel's assistant settings (off, with defaults, until set), as read
        within the last SETTINGS_SECONDS."""

        async def read() -> AssistantSettingsRead:
            stored = await SettingsRepository(session, workspace_id).for_channel(str(channel))
            if stored is None:
                return _defaults(channel)
            return AssistantSettingsRead.model_validate(stored)

        return await _recent.load((workspace_id, str(channel)), read)

    async def all_settings(self, session: AsyncSession, workspace_id: str) -> AssistantSettingsList:
        """Return every channel's settings, defaults where none are stored."""
        stored = {
            row.channel: row for row in await SettingsRepository(session, workspace_id).listed()
        }
        items = [
            AssistantSettingsRead.model_validate(stored[channel])
            if channel in stored
            else _defaults(channel)
            for channel in Channel
        ]
        return AssistantSettingsList(items=items)

    async def configure(
        self,
        session: AsyncSession,
        workspace_id: str,
        channel: Channel,
        body: AssistantSettingsUpdate,
        actor: Actor,
    ) -> AssistantSettingsRead:
        """Turn the assistant on or off for a channel and set its hand-off rules (audited)."""
        await take_writer(session)
        repository = SettingsRepository(session, workspace_id)
        stored = await repository.for_channel(str(channel), for_update=True)
        values = {name: getattr(body, name) for name in FIELDS}
        if stored is None:
            stored = await repository.add(AssistantSettings(channel=str(channel), **values))
        for name, value in values.items():
            setattr(stored, name, value)
        stored.updated_at = utcnow()
        _recent.forget_on_commit(session, (workspace_id, str(channel)))
        await audit.record(
            session, "assistant.settings_changed", actor, workspace_id=workspace_id,
            target_type="assistant_settings", target_id=str(channel),
            details={"enabled": body.enabled},
        )  # fmt: skip
        return AssistantSettingsRead.model_validate(stored)

    async def owns_new(self, session: AsyncSession, workspace_id: str, channel: Channel) -> bool:
        """Tell whether the assistant owns new conversations on this channel."""
        return (await self.settings(session, workspace_id, channel)).enabled


def _defaults(channel: Channel) -> AssistantSettingsRead:
    return AssistantSettingsRead(
        channel=channel,
        enabled=False,
        name=DEFAULT_NAME,
        confidence_threshold=DEFAULT_CONFIDENCE,
        negative_sentiment_threshold=DEFAULT_NEGATIVE,
        knowledge_threshold=DEFAULT_KNOWLEDGE,
        vip_trait=None,
        updated_at=None,
    )


assistant = AssistantService()
