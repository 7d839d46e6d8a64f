"""Every SQL statement of the SMS channel."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from rapport.core.repository import Repository, TenantRepository
from rapport.support.enums import FINISHED
from rapport.support.models import Conversation, Message
from rapport.support.sms_models import SmsDirection, SmsRecord, SmsSettings, SmsStatus


class SmsSettingsRepository(TenantRepository[SmsSettings]):
    model = SmsSettings

    async def current(self, *, for_update: bool = False) -> SmsSettings | None:
        """Return the workspace's SMS settings (locked when asked), if any were set."""
        query = self.base_query()
        return await self.one_or_none(query.with_for_update() if for_update else query)


class SmsWebhookLookup(Repository[SmsSettings]):
    """Finds the workspace a Twilio webhook is for: the one unscoped read, by the id in the
    webhook's path (the request is then trusted only if Twilio's signature holds)."""

    model = SmsSettings

    async def by_id(self, settings_id: str) -> SmsSettings | None:
        """Return the SMS settings with this id."""
        return await self.one_or_none(self.base_query().where(SmsSettings.id == settings_id))


class SmsRecordRepository(TenantRepository[SmsRecord]):
    model = SmsRecord

    async def by_sid(self, message_sid: str) -> tuple[SmsRecord, str] | None:
        """Return the record of a Twilio message and the conversation holding it now."""
        row = (
            await self.session.execute(
                select(SmsRecord, Message.conversation_id)
                .join(Message, Message.id == SmsRecord.message_id)
                .where(SmsRecord.workspace_id == self.workspace_id)
                .where(SmsRecord.message_sid == message_sid)
            )
        ).first()
        return None if row is None else (row[0], str(row[1]))

    async def open_conversation(self, phone_index: str) -> str | None:
        """Return the newest unfinished SMS conversation with this number (merges followed:
        a merged conversation's messages belong to its survivor)."""
        row = await self.session.execute(
            select(Conversation.id)
            .join(Message, Message.conversation_id == Conversation.id)
            .join(SmsRecord, SmsRecord.message_id == Message.id)
            .where(
                SmsRecord.workspace_id == self.workspace_id,
                SmsRecord.phone_index == phone_index,
                Conversation.merged_into_id.is_(None),
                Conversation.status.not_in(list(FINISHED)),
            )
            .order_by(SmsRecord.id.desc())
            .limit(1)
        )
        found = row.scalar_one_or_none()
        return None if found is None else str(found)

    async def latest_inbound(self, conversation_id: str) -> SmsRecord | None:
        """Return the newest text the customer sent in a conversation (merged ones too)."""
        return await self.one_or_none(
            self.base_query()
            .join(Message, Message.id == SmsRecord.message_id)
            .where(
                Message.conversation_id == conversation_id,
                SmsRecord.direction == SmsDirection.inbound,
            )
            .order_by(SmsRecord.id.desc())
            .limit(1)
        )

    async def of_conversation(self, conversation_id: str) -> Sequence[SmsRecord]:
        """Return the SMS records of a conversation's messages, oldest first."""
        return await self.all(
            self.base_query()
            .join(Message, Message.id == SmsRecord.message_id)
            .where(Message.conversation_id == conversation_id)
            .order_by(SmsRecord.id)
        )

    async def for_delivery(self, record_id: str) -> SmsRecord | None:
        """Return an outbound text, locked: one attempt at a time changes it."""
        query = self.base_query().where(
            SmsRecord.id == record_id, SmsRecord.direction == SmsDirection.outbound
        )
        return await self.one_or_none(query.with_for_update())

    async def outbound(self, record_id: str, *, for_update: bool = False) -> SmsRecord | None:
        """Return an outbound text by its id (locked when asked)."""
        query = self.base_query().where(
            SmsRecord.id == record_id, SmsRecord.direction == SmsDirection.outbound
        )
        return await self.one_or_none(query.with_for_update() if for_update else query)

    async def record(self, record_id: str, **values: object) -> None:
        """Write an attempt's outcome, unless the text left the queue meanwhile."""
        await self.session.execute(
            update(SmsRecord)
            .where(
                self.in_workspace(),
                SmsRecord.id == record_id,
                SmsRecord.status == SmsStatus.queued,
            )
            .values(**values)
        )

    async def first_message_id(self, conversation_id: str) -> str:
        """Return the id of a conversation's first message."""
        row = await self.session.execute(
            select(Message.id)
            .where(Message.workspace_id == self.workspace_id)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id)
            .limit(1)
        )
        return str(row.scalar_one())

    async def conversation_of(self, message_id: str) -> str | None:
        """Return the conversation holding a message now."""
        row = await self.session.execute(
            select(Message.conversation_id).where(
                Message.workspace_id == self.workspace_id, Message.id == message_id
            )
        )
        found = row.scalar_one_or_none()
        return None if found is None else str(found)
