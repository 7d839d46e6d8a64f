"""Every SQL statement of the assistant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, bindparam, literal, select

from rapport.assistant.models import AssistantSettings, CustomIntent, CustomIntentDay, Dialogue
from rapport.core.clock import utcnow
from rapport.core.db import lock_key
from rapport.core.ids import new_id
from rapport.core.repository import TenantRepository


class SettingsRepository(TenantRepository[AssistantSettings]):
    model = AssistantSettings

    async def for_channel(
        self, channel: str, *, for_update: bool = False
    ) -> AssistantSettings | None:
        """Return the settings of one channel."""

        def build() -> Select[AssistantSettings]:
            query = self.scoped().where(AssistantSettings.channel == bindparam("channel"))
            return query.with_for_update() if for_update else query

        query = self.prepared(f"for_channel:{for_update}", build)  # every turn reads it
        return await self.one_or_none(query, self.params(channel=channel))

    async def listed(self) -> Sequence[AssistantSettings]:
        """Return every channel's settings, by channel."""
        return await self.all(self.base_query().order_by(AssistantSettings.channel))


class DialogueRepository(TenantRepository[Dialogue]):
    model = Dialogue

    async def of(self, conversation_id: str) -> Dialogue | None:
        """Return a conversation's dialogue (its conversation is locked by the caller)."""
        query = self.prepared(
            "of", lambda: self.scoped().where(Dialogue.conversation_id == bindparam("conversation"))
        )  # every turn reads it
        return await self.one_or_none(query, self.params(conversation=conversation_id))


class CustomIntentRepository(TenantRepository[CustomIntent]):
    model = CustomIntent

    async def listed(self, *, enabled_only: bool = False) -> Sequence[CustomIntent]:
        """Return the workspace's custom intents, by name (only those on, if asked)."""
        query = self.base_query().order_by(CustomIntent.name)
        if enabled_only:
            query = query.where(CustomIntent.enabled.is_(True))
        return await self.all(query)

    async def named(self, name: str) -> CustomIntent | None:
        """Return the custom intent with this name."""
        return await self.one_or_none(self.base_query().where(CustomIntent.name == name))

    async def lock(self) -> None:
        """Make this unit of work the workspace's only one changing custom intents until it
        ends, so the limit and the names it checks still hold when it writes."""
        await lock_key(self.session, f"assistant-intents:{self.workspace_id}")

    async def counted(self) -> int:
        """Count the workspace's custom intents."""
        return await self.count(self.base_query())


class CustomIntentDayRepository(TenantRepository[CustomIntentDay]):
    model = CustomIntentDay

    async def add_match(self, intent_id: str, day: date) -> None:
        """Add one message to an intent's count of the day, in one statement: the day's
        first makes the row; an intent deleted meanwhile (another process may still match
        it for a few seconds) counts nothing."""
        table = CustomIntentDay.__table__.c
        intent = (
            select(
                literal(new_id(), table.id.type), literal(utcnow(), table.created_at.type),
                CustomIntent.workspace_id, CustomIntent.id, literal(day, table.day.type),
                literal(1, table.matches.type),
            )
            .where(CustomIntent.workspace_id == self.workspace_id)
            .where(CustomIntent.id == intent_id)
        )  # fmt: skip
        columns = ["id", "created_at", "workspace_id", "intent_id", "day", "matches"]
        statement = self.upserting().from_select(columns, intent)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["workspace_id", "intent_id", "day"],
                set_={"matches": CustomIntentDay.matches + 1},
            )
        )

    async def since(self, first_day: date) -> Sequence[tuple[str, date, int]]:
        """Return (intent, day, messages) for every day from `first_day` that had any."""
        query = (
            select(CustomIntentDay.intent_id, CustomIntentDay.day, CustomIntentDay.matches)
            .where(CustomIntentDay.workspace_id == self.workspace_id)
            .where(CustomIntentDay.day >= first_day)
        )
        rows = await self.session.execute(query)
        return [(intent_id, day, matches) for intent_id, day, matches in rows]
