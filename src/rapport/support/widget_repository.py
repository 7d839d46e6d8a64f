"""Every SQL statement of the chat widget: visitors, the threads they own, client ids."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, select

from rapport.core.repository import Repository, TenantRepository
from rapport.support.enums import AuthorType
from rapport.support.models import Message, WidgetClientMessage, WidgetThread, WidgetVisitor


class VisitorLookup(Repository[WidgetVisitor]):
    """Visitors found by their token, before the workspace is known."""

    model = WidgetVisitor

    async def by_token_hash(self, token_hash: str) -> WidgetVisitor | None:
        """Return the visitor whose token hashes to `token_hash`."""
        return await self.one_or_none(
            select(WidgetVisitor).where(WidgetVisitor.token_hash == token_hash)
        )


class VisitorRepository(TenantRepository[WidgetVisitor]):
    model = WidgetVisitor

    async def locked(self, visitor_id: str) -> WidgetVisitor | None:
        """Return a visitor locked, so one visitor's sends run one at a time."""
        query = self.base_query().where(WidgetVisitor.id == visitor_id)
        return await self.one_or_none(query.with_for_update())


class ThreadRepository(TenantRepository[WidgetThread]):
    model = WidgetThread

    async def latest_owned(self, visitor_id: str, user_index: str | None) -> WidgetThread | None:
        """Return the newest thread a visitor owns (a verified customer's, from any device)."""
        query = self.base_query().where(*_owned(visitor_id, user_index))
        return await self.one_or_none(query.order_by(WidgetThread.id.desc()).limit(1))

    async def owned(
        self,
        conversation_id: str,
        visitor_id: str,
        user_index: str | None,
        *,
        for_update: bool = False,
    ) -> WidgetThread | None:
        """Return a conversation's thread when the visitor owns it (locked when asked)."""
        query = self.base_query().where(
            WidgetThread.conversation_id == conversation_id, *_owned(visitor_id, user_index)
        )
        return await self.one_or_none(query.with_for_update() if for_update else query)

    async def for_conversation(self, conversation_id: str) -> WidgetThread | None:
        """Return the widget thread of a conversation, if it came through the widget."""
        query = self.base_query().where(WidgetThread.conversation_id == conversation_id)
        return await self.one_or_none(query.with_for_update())


def _owned(visitor_id: str, user_index: str | None) -> list[ColumnElement[bool]]:
    # A verified customer's threads belong to their user id, never to a device: a visitor who
    # comes back unsigned on a shared computer no longer sees them.
    if user_index is not None:
        return [WidgetThread.user_index == user_index]
    return [WidgetThread.user_index.is_(None), WidgetThread.visitor_id == visitor_id]


class ClientMessageRepository(TenantRepository[WidgetClientMessage]):
    model = WidgetClientMessage

    async def find(self, visitor_id: str, client_id: str) -> WidgetClientMessage | None:
        """Return what a visitor's message with this client id became, if it was stored."""
        query = self.base_query().where(
            WidgetClientMessage.visitor_id == visitor_id,
            WidgetClientMessage.client_id == client_id,
        )
        return await self.one_or_none(query)

    async def client_ids(self, message_ids: list[str]) -> dict[str, str]:
        """Return the client id of each of some messages that came through the widget."""
        if not message_ids:
            return {}
        rows = await self.session.execute(
            select(WidgetClientMessage.message_id, WidgetClientMessage.client_id).where(
                WidgetClientMessage.workspace_id == self.workspace_id,
                WidgetClientMessage.message_id.in_(message_ids),
            )
        )
        return {str(message_id): str(client_id) for message_id, client_id in rows}


class ThreadMessageRepository(TenantRepository[Message]):
    model = Message

    def _public_after(self, conversation_id: str, after_seq: int) -> Select[Message]:
        return self.base_query().where(
            Message.conversation_id == conversation_id,
            Message.private.is_(False),
            Message.seq > after_seq,
        )

    async def public_after(
        self, conversation_id: str, after_seq: int, limit: int
    ) -> Sequence[Message]:
        """Return a conversation's public messages after a place in it, in order."""
        query = self._public_after(conversation_id, after_seq)
        return await self.all(query.order_by(Message.seq, Message.id).limit(limit))

    async def agent_replies_after(
        self, conversation_id: str, after_seq: int, limit: int
    ) -> Sequence[Message]:
        """Return a conversation's public agents' replies after a place in it, newest first."""
        query = self._public_after(conversation_id, after_seq).where(
            Message.author_type == AuthorType.agent
        )
        return await self.all(query.order_by(Message.seq.desc(), Message.id.desc()).limit(limit))

    async def public_after_owned(
        self,
        conversation_id: str,
        visitor_id: str,
        user_index: str | None,
        after_seq: int,
        limit: int,
    ) -> Sequence[Message]:
        """Return what `public_after` does, but only when the visitor owns the conversation
        (its widget thread joined in): a read-back that finds messages proves ownership in
        the same statement; one that finds none says nothing about it."""
        query = (
            self.base_query()
            .join(WidgetThread, WidgetThread.conversation_id == Message.conversation_id)
            .where(
                WidgetThread.workspace_id == self.workspace_id,
                *_owned(visitor_id, user_index),
                Message.conversation_id == conversation_id,
                Message.private.is_(False),
                Message.seq > after_seq,
            )
        )
        return await self.all(query.order_by(Message.seq, Message.id).limit(limit))

    async def latest(self, conversation_id: str) -> Message | None:
        """Return a conversation's last message."""
        query = self.base_query().where(Message.conversation_id == conversation_id)
        return await self.one_or_none(query.order_by(Message.seq.desc()).limit(1))
