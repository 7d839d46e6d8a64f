"""Every SQL statement of the email channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select

from rapport.core.repository import Repository, TenantRepository
from rapport.support.email_models import EmailRecord, EmailSettings
from rapport.support.enums import EmailDirection
from rapport.support.models import Message


class EmailSettingsRepository(TenantRepository[EmailSettings]):
    model = EmailSettings

    async def current(self, *, for_update: bool = False) -> EmailSettings | None:
        """Return the workspace's email settings (locked when asked), if any were set."""
        query = self.base_query()
        return await self.one_or_none(query.with_for_update() if for_update else query)


class InboundAddressLookup(Repository[EmailSettings]):
    """Finds the workspace an inbound address belongs to: the one unscoped read, keyed by
    the hash of the address's secret."""

    model = EmailSettings

    async def by_token_hash(self, token_hash: str) -> EmailSettings | None:
        """Return the settings whose inbound secret has this hash."""
        return await self.one_or_none(
            self.base_query().where(EmailSettings.inbound_token_hash == token_hash)
        )


class ImapSweep(Repository[EmailSettings]):
    """Finds the IMAP mailboxes due for a check, across workspaces (the poller's one
    unscoped read; each row it returns is then used for its own workspace only)."""

    model = EmailSettings

    async def claim_due(self, now: datetime, limit: int) -> Sequence[EmailSettings]:
        """Return enabled mailboxes whose check is due, locked (others skip them on
        PostgreSQL), so the caller moves their next check on before it commits."""
        return await self.all(
            self.base_query()
            .where(
                EmailSettings.imap_enabled.is_(True),
                or_(
                    EmailSettings.imap_next_poll_at.is_(None),
                    EmailSettings.imap_next_poll_at <= now,
                ),
            )
            .order_by(EmailSettings.imap_next_poll_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )


class EmailRecordRepository(TenantRepository[EmailRecord]):
    model = EmailRecord

    async def by_header_ids(self, header_ids: Sequence[str]) -> list[tuple[str, str]]:
        """Return (header id, conversation id now holding its message) for known ids."""
        rows = await self.session.execute(
            select(EmailRecord.header_message_id, Message.conversation_id)
            .join(Message, Message.id == EmailRecord.message_id)
            .where(
                EmailRecord.workspace_id == self.workspace_id,
                EmailRecord.header_message_id.in_(list(header_ids)),
            )
        )
        return [(str(header_id), str(conversation_id)) for header_id, conversation_id in rows]

    async def latest_inbound(self, conversation_id: str) -> EmailRecord | None:
        """Return the newest email the customer sent in a conversation (merged ones too)."""
        return await self.one_or_none(
            self.base_query()
            .join(Message, Message.id == EmailRecord.message_id)
            .where(
                Message.conversation_id == conversation_id,
                EmailRecord.direction == EmailDirection.inbound,
            )
            .order_by(EmailRecord.id.desc())
            .limit(1)
        )

    async def of_conversation(self, conversation_id: str) -> Sequence[EmailRecord]:
        """Return the email records of a conversation's messages, oldest first."""
        return await self.all(
            self.base_query()
            .join(Message, Message.id == EmailRecord.message_id)
            .where(Message.conversation_id == conversation_id)
            .order_by(EmailRecord.id)
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
