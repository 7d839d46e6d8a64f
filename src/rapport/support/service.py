"""The support desk's conversations: open, read, list, change, assign; what other domains
(the widget, email and SMS channels, the assistant, the console) call."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.pagination import decode_cursor, encode_cursor
from rapport.customers.service import customers
from rapport.nlp.pii import mask_card_numbers
from rapport.support import metrics
from rapport.support.enums import AuthorType, Channel, ConversationStatus, MessageKind
from rapport.support.errors import ConversationMerged, ConversationNotFound
from rapport.support.events import CONVERSATION_ASSIGNED, CONVERSATION_CREATED
from rapport.support.lifecycle import change_priority, change_status, log
from rapport.support.messages import (
    AUTHOR_OF_KIND,
    Draft,
    draft_message,
    read_message,
    write_message,
)
from rapport.support.models import Activity, Conversation, Message
from rapport.support.notify import announce
from rapport.support.priority import score
from rapport.support.repository import ActivityRepository, ConversationRepository, MessageRepository
from rapport.support.routing_repository import RoutingRepository
from rapport.support.schemas import (
    ID_PATTERN,
    Acting,
    AssignmentChange,
    ConversationCreate,
    ConversationFilters,
    ConversationPage,
    ConversationRead,
    ConversationUpdate,
    MessageCreate,
    MessagePage,
    MessageRead,
    Visibility,
)
from rapport.support.teams import teams

PAGE_SIZE = 50
_ID = re.compile(ID_PATTERN)
# Whether a new conversation on a channel is owned by the assistant (`pending`); the
# assistant registers its rule (assistant/tasks.py), so support never imports it.
Intake = Callable[[AsyncSession, str, Channel], Awaitable[bool]]
_intakes: list[Intake] = []


@dataclass(frozen=True)
class PlannedPost:
    """A message to a conversation, read and checked without a lock (see plan_post)."""

    conversation: Conversation
    visibility: Visibility
    body: MessageCreate
    acting: Acting
    draft: Draft


def register_intake(intake: Intake) -> None:
    """Let `intake` decide whether new conversations on a channel start `pending`."""
    if intake not in _intakes:
        _intakes.append(intake)


class ConversationService:
    async def create(
        self, session: AsyncSession, workspace_id: str, body: ConversationCreate, acting: Acting
    ) -> Conversation:
        """Open a conversation with its first message, for a customer of the 360."""
        customer_id = None
        if body.customer_id is not None:
            customer_id = (await customers.live(session, workspace_id, body.customer_id)).id
        if body.team_id is not None:
            await teams.get(session, workspace_id, body.team_id)
        now = utcnow()
        scored = score(body.message.body, None)
        status = body.status
        if "status" not in body.model_fields_set and await _taken(session, workspace_id, body):
            status = ConversationStatus.pending
        conversation = await ConversationRepository(session, workspace_id).add(
            Conversation(
                channel=Channel(body.channel),
                status=status,
                priority=body.priority or scored.priority,
                priority_reason=f"set by {acting.actor}" if body.priority else scored.reason,
                priority_overridden=body.priority is not None,
                customer_id=customer_id,
                team_id=body.team_id,
                tags=_tags(body.tags),
                attributes=_attributes(body.attributes),
                language=body.language,
                skills=_tags(body.skills),
                cycle_started_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        await log(session, conversation, "created", acting.actor, channel=body.channel)
        announce(
            session, CONVERSATION_CREATED, workspace_id=workspace_id,
            conversation_id=conversation.id, channel=str(body.channel), customer_id=customer_id,
        )  # fmt: skip
        await self._write(session, conversation, body.message, acting)
        return conversation

    async def get(
        self, session: AsyncSession, workspace_id: str, conversation_id: str, acting: Acting
    ) -> Conversation:
        """Return a conversation the caller may see."""
        return await self._find(session, workspace_id, conversation_id, acting)

    async def page(
        self,
        session: AsyncSession,
        workspace_id: str,
        filters: ConversationFilters,
        acting: Acting,
        cursor: str | None = None,
        limit: int = PAGE_SIZE,
    ) -> ConversationPage:
        """Return one page of the conversations the caller may see, newest first."""
        visibility = await teams.visibility(session, workspace_id, acting.staff_id)
        before = None if cursor is None else decode_cursor("support.conversations", cursor, _id)
        rows = list(
            await ConversationRepository(session, workspace_id).listed(
                filters, visibility, before, limit + 1
            )
        )
        next_cursor = None
        if len(rows) > limit:
            next_cursor = encode_cursor("support.conversations", [rows[limit - 1].id])
        items = [ConversationRead.model_validate(row) for row in rows[:limit]]
        return ConversationPage(items=items, next_cursor=next_cursor)

    async def post(
        self,
        session: AsyncSession,
        workspace_id: str,
        conversation_id: str,
        body: MessageCreate,
        acting: Acting,
    ) -> MessageRead:
        """Add a message or private note to a conversation."""
        planned = await self.plan_post(session, workspace_id, conversation_id, body, acting)
        return read_message(await self.write_planned(session, planned))

    async def plan_post(
        self,
        session: AsyncSession,
        workspace_id: str,
        conversation_id: str,
        body: MessageCreate,
        acting: Acting,
    ) -> PlannedPost:
        """Read and check everything a message needs, taking no lock and writing nothing:
        on SQLite the writer is taken by write_planned, for the writes alone."""
        visibility = await teams.visibility(session, workspace_id, acting.staff_id)
        conversation = await ConversationRepository(session, workspace_id).get_visible(
            conversation_id, visibility
        )
        if conversation is None:
            raise ConversationNotFound("No such conversation in this workspace.")
        _refuse_merged(conversation)
        draft = await draft_message(
            session, conversation, AUTHOR_OF_KIND[body.kind], body.body,
            private=body.kind == MessageKind.note, mentions=body.mentions,
        )  # fmt: skip
        return PlannedPost(conversation, visibility, body, acting, draft)

    async def write_planned(self, session: AsyncSession, planned: PlannedPost) -> Message:
        """Lock the conversation, check again what may have changed since plan_post (still
        there, visible, not merged: its status, seq and waits are read afresh) and write."""
        conversation = await RoutingRepository(
            session, planned.conversation.workspace_id
        ).for_routing(planned.conversation.id)
        if conversation is None or not _sees(planned.visibility, conversation):
            raise ConversationNotFound("No such conversation in this workspace.")
        _refuse_merged(conversation)
        return await self._write(session, conversation, planned.body, planned.acting, planned.draft)

    async def messages(
        self,
        session: AsyncSession,
        workspace_id: str,
        conversation_id: str,
        acting: Acting,
        cursor: str | None = None,
        limit: int = PAGE_SIZE,
    ) -> MessagePage:
        """Return one page of a conversation's messages and notes, oldest first."""
        conversation = await self._find(session, workspace_id, conversation_id, acting)
        kind = f"support.messages.{conversation.id}"
        after = None if cursor is None else decode_cursor(kind, cursor, _id)
        rows = list(
            await MessageRepository(session, workspace_id).page(conversation.id, after, limit + 1)
        )
        next_cursor = encode_cursor(kind, [rows[limit - 1].id]) if len(rows) > limit else None
        return MessagePage(items=[read_message(r) for r in rows[:limit]], next_cursor=next_cursor)

    async def history(
        self, session: AsyncSession, workspace_id: str, conversation_id: str, acting: Acting
    ) -> Sequence[Activity]:
        """Return a conversation's history of changes, oldest first."""
        conversation = await self._find(session, workspace_id, conversation_id, acting)
        return await ActivityRepository(session, workspace_id).of(conversation.id)

    async def update(
        self,
        session: AsyncSession,
        workspace_id: str,
        conversation_id: str,
        body: ConversationUpdate,
        acting: Acting,
    ) -> Conversation:
        """Change a conversation's status, priority, tags or attributes (those given)."""
        conversation = await self._live(session, workspace_id, conversation_id, acting)
        if body.status is not None:
            await change_status(session, conversation, body.status, acting, body.snoozed_until)
        elif body.snoozed_until is not None:
            await change_status(
                session, conversation, conversation.status, acting, body.snoozed_until
            )
        if body.priority is not None:
            reason = f"set by {acting.actor}"
            await change_priority(
                session, conversation, body.priority, reason, acting, overridden=True
            )
        if body.tags is not None:
            conversation.tags = _tags(body.tags)
            await log(session, conversation, "tags", acting.actor, tags=conversation.tags)
        if body.language is not None or body.skills is not None:
            await _set_needs(session, conversation, body, acting)
        if body.attributes is not None:
            conversation.attributes = _attributes(body.attributes)
            names = sorted(conversation.attributes)
            await log(session, conversation, "attributes", acting.actor, names=names)
        return conversation

    async def assign(
        self,
        session: AsyncSession,
        workspace_id: str,
        conversation_id: str,
        body: AssignmentChange,
        acting: Acting,
    ) -> Conversation:
        """Assign a conversation to a staff member and/or a team (those given; null clears)."""
        conversation = await self._live(session, workspace_id, conversation_id, acting)
        previous = (conversation.assignee_id, conversation.team_id)
        await metrics.end_handling(session, conversation, utcnow())
        changed: dict[str, Any] = {}
        if "assignee_id" in body.model_fields_set:
            if body.assignee_id is not None:
                await teams.check_member(session, workspace_id, body.assignee_id)
            conversation.assignee_id = changed["assignee_id"] = body.assignee_id
        if "team_id" in body.model_fields_set:
            if body.team_id is not None:
                await teams.get(session, workspace_id, body.team_id)
            conversation.team_id = changed["team_id"] = body.team_id
        if changed:
            await metrics.note_reassignment(session, conversation, previous, acting, utcnow())
            await log(session, conversation, "assignment", acting.actor, **changed)
            announce(
                session, CONVERSATION_ASSIGNED, workspace_id=workspace_id,
                conversation_id=conversation.id, **changed,
            )  # fmt: skip
        return conversation

    async def _write(
        self,
        session: AsyncSession,
        conversation: Conversation,
        body: MessageCreate,
        acting: Acting,
        draft: Draft | None = None,
    ) -> Message:
        author_type = AUTHOR_OF_KIND[body.kind]
        author = (
            f"customer:{conversation.customer_id}"
            if author_type == AuthorType.customer and conversation.customer_id
            else ("customer" if author_type == AuthorType.customer else acting.actor)
        )
        return await write_message(
            session, conversation, author_type, author, body.body, acting=acting,
            private=body.kind == MessageKind.note, mentions=body.mentions, draft=draft,
        )  # fmt: skip

    async def _find(
        self,
        session: AsyncSession,
        workspace_id: str,
        conversation_id: str,
        acting: Acting,
        for_update: bool = False,
    ) -> Conversation:
        visibility = await teams.visibility(session, workspace_id, acting.staff_id)
        conversation = await ConversationRepository(session, workspace_id).get_visible(
            conversation_id, visibility, for_update=for_update
        )
        if conversation is None:
            raise ConversationNotFound("No such conversation in this workspace.")
        return conversation

    async def get_for_change(
        self, session: AsyncSession, workspace_id: str, conversation_id: str, acting: Acting
    ) -> Conversation:
        """Return a conversation the caller may change, locked; a merged one is refused."""
        return await self._live(session, workspace_id, conversation_id, acting)

    async def _live(
        self, session: AsyncSession, workspace_id: str, conversation_id: str, acting: Acting
    ) -> Conversation:
        conversation = await self._find(session, workspace_id, conversation_id, acting, True)
        _refuse_merged(conversation)
        return conversation


def _refuse_merged(conversation: Conversation) -> None:
    if conversation.merged_into_id is not None:
        raise ConversationMerged(f"Merged into {conversation.merged_into_id}; change that one.")


def _sees(visibility: Visibility, conversation: Conversation) -> bool:
    """Tell whether `visibility` still covers the conversation (its team or assignee may
    have changed since it was read)."""
    if visibility.team_ids is None:
        return True
    return (
        conversation.team_id in visibility.team_ids
        or conversation.assignee_id == visibility.staff_id
    )


def _id(values: list[Any]) -> str:
    [value] = values
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError("a conversations cursor holds an id")
    return value


async def _set_needs(
    session: AsyncSession, conversation: Conversation, body: ConversationUpdate, acting: Acting
) -> None:
    """Change what routing needs of an agent: a language ("" clears it), skills."""
    if body.language is not None:
        conversation.language = body.language or None
    if body.skills is not None:
        conversation.skills = _tags(body.skills)
    needs = {"language": conversation.language, "skills": conversation.skills}
    await log(session, conversation, "routing_needs", acting.actor, **needs)


async def _taken(session: AsyncSession, workspace_id: str, body: ConversationCreate) -> bool:
    """Tell whether a registered intake (the assistant) owns new conversations here."""
    for intake in _intakes:
        if await intake(session, workspace_id, Channel(body.channel)):
            return True
    return False


def _tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tag.strip() for tag in tags))


def _attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        name: mask_card_numbers(value) if isinstance(value, str) else value
        for name, value in attributes.items()
    }


conversations = ConversationService()
