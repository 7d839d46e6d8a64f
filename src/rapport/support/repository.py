"""Every SQL statement of the support desk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, or_, select, update

from rapport.core.repository import TenantRepository
from rapport.support.enums import AuthorType, Channel, ConversationStatus
from rapport.support.models import (
    Activity,
    Agent,
    Conversation,
    Message,
    MetricEvent,
    Team,
    TeamMember,
)
from rapport.support.schemas import ConversationFilters, Visibility


class ConversationRepository(TenantRepository[Conversation]):
    model = Conversation

    async def get_visible(
        self, conversation_id: str, visibility: Visibility, *, for_update: bool = False
    ) -> Conversation | None:
        """Return a conversation the caller may see (locked for a change when asked)."""
        query = self.id_query(for_update=for_update)
        if conditions := _visible(visibility):
            query = query.where(*conditions)
        return await self.one_or_none(query, self.id_params(conversation_id))

    async def listed(
        self,
        filters: ConversationFilters,
        visibility: Visibility,
        before_id: str | None,
        limit: int,
    ) -> Sequence[Conversation]:
        """Return unmerged conversations matching the filters, newest first, before a cursor."""
        query = self._matching_query(filters, visibility)
        if before_id is not None:
            query = query.where(Conversation.id < before_id)
        return await self.all(query.order_by(Conversation.id.desc()).limit(limit))

    async def counted(self, filters: ConversationFilters, visibility: Visibility, cap: int) -> int:
        """Count unmerged conversations matching the filters, stopping at `cap`."""
        return await self.count(self._matching_query(filters, visibility).limit(cap))

    def _matching_query(
        self, filters: ConversationFilters, visibility: Visibility
    ) -> Select[Conversation]:
        query = self.base_query().where(
            Conversation.merged_into_id.is_(None), *_visible(visibility), *_matching(filters)
        )
        if filters.tag is not None:
            postgres = self.session.bind is not None and self.session.bind.dialect.name != "sqlite"
            elements = func.json_array_elements_text if postgres else func.json_each
            tags = elements(Conversation.tags).table_valued("value")
            carrying = select(1).select_from(tags).where(tags.c.value == filters.tag)
            query = query.where(exists(carrying))
        return query

    async def move_thread(self, from_id: str, to_id: str) -> None:
        """Move a conversation's messages and history to another one."""
        for model in (Message, Activity):
            await self.session.execute(
                update(model)
                .where(model.workspace_id == self.workspace_id, model.conversation_id == from_id)
                .values(conversation_id=to_id)
                .execution_options(synchronize_session=False)
            )


def _visible(visibility: Visibility) -> list[ColumnElement[bool]]:
    if visibility.team_ids is None:
        return []
    return [
        or_(
            Conversation.team_id.in_(visibility.team_ids),
            Conversation.assignee_id == visibility.staff_id,
        )
    ]


def _matching(filters: ConversationFilters) -> list[ColumnElement[bool]]:
    columns = {
        Conversation.status: filters.status,
        Conversation.assignee_id: filters.assignee_id,
        Conversation.team_id: filters.team_id,
        Conversation.channel: filters.channel,
        Conversation.priority: filters.priority,
        Conversation.customer_id: filters.customer_id,
        Conversation.sentiment: filters.sentiment,
        Conversation.intent: filters.intent,
    }
    found = [column == value for column, value in columns.items() if value is not None]
    if filters.unassigned:
        found.append(Conversation.assignee_id.is_(None))
    if filters.team_ids is not None:
        found.append(Conversation.team_id.in_(filters.team_ids))
    return found


class MessageState(NamedTuple):
    """A message's columns and where its conversation stands (`_WITH_STATE`)."""

    id: str
    conversation_id: str
    author_type: AuthorType
    private: bool
    body: bytes
    labelled_at: datetime | None
    created_at: datetime
    status: ConversationStatus
    channel: Channel
    customer_id: str | None


class MessageRepository(TenantRepository[Message]):
    model = Message

    async def page(
        self, conversation_id: str, after_id: str | None, limit: int
    ) -> Sequence[Message]:
        """Return a conversation's messages, oldest first, after a cursor."""
        query = self.base_query().where(Message.conversation_id == conversation_id)
        if after_id is not None:
            query = query.where(Message.id > after_id)
        return await self.all(query.order_by(Message.id).limit(limit))

    async def with_conversation_state(self, message_id: str) -> MessageState | None:
        """Return a message with its conversation's status, channel and customer, in one
        statement and without loading either row as an object; None if not found."""
        params = {"workspace": self.workspace_id, "message": message_id}
        found = (await self.session.execute(_WITH_STATE, params)).one_or_none()
        return None if found is None else MessageState._make(found)

    async def unlabelled(
        self, after_id: str | None, created_before: datetime, limit: int
    ) -> list[MessageState]:
        """Return up to `limit` public customer messages without labels, created before
        `created_before`, in id order after a cursor (the primary key's order: each page
        reads on from where the last stopped)."""
        query = (
            _STATE.where(
                Message.workspace_id == self.workspace_id,
                Conversation.workspace_id == self.workspace_id,
                Message.author_type == AuthorType.customer,
                Message.private.is_(False),
                Message.labelled_at.is_(None),
                Message.created_at < created_before,
            )
            .order_by(Message.id)
            .limit(limit)
        )
        if after_id is not None:
            query = query.where(Message.id > after_id)
        return [MessageState._make(row) for row in await self.session.execute(query)]

    async def labelled_after(self, conversation_id: str, message_id: str) -> bool:
        """Tell whether a customer message of the conversation newer than `message_id` has
        labels (an older one then only fills in the conversation's labels). Newer
        is a later id: ids are made in order (UUIDv7), where two `created_at` can tie and a
        clock set back reorders them."""
        query = select(
            exists().where(
                Message.workspace_id == self.workspace_id,
                Message.conversation_id == conversation_id,
                Message.author_type == AuthorType.customer,
                Message.private.is_(False),
                Message.labelled_at.is_not(None),
                Message.id > message_id,
            )
        )
        return bool((await self.session.execute(query)).scalar())

    async def label(self, message_id: str, conversation_id: str, labels: dict[str, Any]) -> bool:
        """Store a message's labels (LABEL_COLUMNS) unless it has them already; tell whether
        it was labelled now (False too for a message that is not, or no longer, this
        conversation's). A copy of the message this unit of work holds is not refreshed."""
        values = {f"new_{name}": labels[name] for name in LABEL_COLUMNS}
        keys = {"workspace": self.workspace_id, "message": message_id}
        labelled = await self.session.execute(
            _LABEL, keys | {"conversation": conversation_id} | values
        )
        return bool(labelled.rowcount)  # type: ignore[attr-defined]

    async def has_human_reply(self, conversation_id: str) -> bool:
        """Tell whether an agent ever wrote to the customer in this conversation."""
        query = select(
            exists().where(
                Message.workspace_id == self.workspace_id,
                Message.conversation_id == conversation_id,
                Message.author_type == AuthorType.agent,
                Message.private.is_(False),
            )
        )
        return bool((await self.session.execute(query)).scalar())


# A message with where its conversation stands (MessageState).
_STATE = select(
    Message.id, Message.conversation_id, Message.author_type, Message.private,
    Message.body, Message.labelled_at, Message.created_at,
    Conversation.status, Conversation.channel, Conversation.customer_id,
).join(Conversation, Conversation.id == Message.conversation_id)  # fmt: skip
# A new customer message as the assistant's job reads it (see with_conversation_state).
_WITH_STATE = (
    _STATE.where(
        Message.workspace_id == bindparam("workspace"),
        Message.id == bindparam("message"),
        Conversation.workspace_id == bindparam("workspace"),
    )
)  # fmt: skip
LABEL_COLUMNS = (
    "labelled_at", "language", "intent", "intent_confidence", "sentiment", "sentiment_score"
)  # fmt: skip
# Every customer message is labelled once: the statement is built once, its values bound when
# it runs (a third of the CPU of building it each time and matching it against the session).
_LABEL = (
    update(Message)
    .where(
        Message.workspace_id == bindparam("workspace"),
        Message.id == bindparam("message"),
        Message.conversation_id == bindparam("conversation"),
        Message.labelled_at.is_(None),
    )
    .values({name: bindparam(f"new_{name}") for name in LABEL_COLUMNS})
    .execution_options(synchronize_session=False)
)


class ActivityRepository(TenantRepository[Activity]):
    model = Activity

    async def of(self, conversation_id: str) -> Sequence[Activity]:
        """Return a conversation's history, oldest first."""
        return await self.all(
            self.base_query()
            .where(Activity.conversation_id == conversation_id)
            .order_by(Activity.id)
        )


class MetricRepository(TenantRepository[MetricEvent]):
    """Metric events are only ever added (append-only): there is no update or delete here."""

    model = MetricEvent

    async def of(self, conversation_id: str) -> Sequence[MetricEvent]:
        """Return the metric events of a conversation, in the order they happened."""
        return await self.all(
            self.base_query()
            .where(MetricEvent.conversation_id == conversation_id)
            .order_by(MetricEvent.id)
        )


class TeamRepository(TenantRepository[Team]):
    model = Team

    async def named(self, name: str) -> Team | None:
        """Return the team with this name."""
        return await self.one_or_none(self.base_query().where(Team.name == name))

    async def listed(self) -> Sequence[Team]:
        """Return every team, by name."""
        return await self.all(self.base_query().order_by(Team.name, Team.id))


class TeamMemberRepository(TenantRepository[TeamMember]):
    model = TeamMember

    async def find(self, team_id: str, staff_id: str) -> TeamMember | None:
        """Return one member's place in one team."""
        return await self.one_or_none(
            self.base_query().where(TeamMember.team_id == team_id, TeamMember.staff_id == staff_id)
        )

    async def of_teams(self, team_ids: list[str]) -> Sequence[TeamMember]:
        """Return the members of some teams."""
        return await self.all(
            self.base_query().where(TeamMember.team_id.in_(team_ids)).order_by(TeamMember.id)
        )

    async def team_ids_of(self, staff_id: str) -> list[str]:
        """Return the teams a staff member belongs to."""
        rows = await self.session.execute(
            select(TeamMember.team_id)
            .where(TeamMember.workspace_id == self.workspace_id, TeamMember.staff_id == staff_id)
            .order_by(TeamMember.team_id)
        )
        return [str(row[0]) for row in rows]


class AgentRepository(TenantRepository[Agent]):
    model = Agent

    async def for_staff(self, staff_id: str, *, for_update: bool = False) -> Agent | None:
        """Return a staff member's support settings, if any were set."""
        query = self.base_query().where(Agent.staff_id == staff_id)
        return await self.one_or_none(query.with_for_update() if for_update else query)
