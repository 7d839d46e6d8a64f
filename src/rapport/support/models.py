"""Support tables: conversations, their messages and history, teams, agents and metrics."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.clock import utcnow
from rapport.core.db import Base, TenantMixin
from rapport.support.enums import (
    AgentAvailability,
    AuthorType,
    Channel,
    ConversationStatus,
    MetricKind,
    Priority,
)


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16)


def conversation_fk() -> ForeignKey:
    """Return a new foreign key to a conversation (one object per column)."""
    return ForeignKey("conversations.id", ondelete="CASCADE")


def staff_fk() -> ForeignKey:
    """Return a new foreign key to a staff user (one object per column)."""
    return ForeignKey("staff_users.id", ondelete="CASCADE")


CREATED_INDEX = (
    "workspace_id", "created_at", "channel", "team_id", "assignee_id", "merged_into_id",
)  # fmt: skip


class Conversation(TenantMixin, Base):
    """One conversation with a customer on one channel; a merged one points to its survivor."""

    __tablename__ = "conversations"
    # The inbox pages newest first by id within a status (led by the workspace).
    __table_args__ = (
        Index("ix_conversations_inbox", "workspace_id", "status", "id"),
        Index("ix_conversations_assignee", "workspace_id", "assignee_id", "id"),
        Index("ix_conversations_team", "workspace_id", "team_id", "id"),
        # Metrics count the conversations created in a window (migration 0020) by these
        # columns, from the index alone (migration 0032).
        Index("ix_conversations_created", *CREATED_INDEX),
        # Inbox views without a status (every conversation, newest first; migration 0020).
        Index("ix_conversations_recent", "workspace_id", "id"),
        # Whether any conversation still shows an SLA policy: a workspace with neither a
        # policy nor such a conversation queues no SLA tracking (migration 0042).
        Index("ix_conversations_sla_policy", "workspace_id", "sla_policy_id"),
    )

    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    status: Mapped[ConversationStatus] = mapped_column(_enum(ConversationStatus))
    # Indexed: the wake-up job finds snoozed conversations whose time has come.
    snoozed_until: Mapped[datetime | None] = mapped_column(index=True)
    priority: Mapped[Priority] = mapped_column(_enum(Priority))
    priority_reason: Mapped[str] = mapped_column(String(300))
    priority_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    assignee_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    team_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("support_teams.id", ondelete="SET NULL")
    )
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    merged_into_id: Mapped[str | None] = mapped_column(String(32))
    # What the metric events are measured from: the current open->resolved cycle's start,
    # the assistant's hand-off, the oldest customer message no human has answered yet.
    cycle_started_at: Mapped[datetime | None]
    handed_off_at: Mapped[datetime | None]
    awaiting_reply_since: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last message's place in this thread (Message.seq): chat clients resume after it.
    message_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Routing needs (an agent must speak the language and hold every skill) and the SLA:
    # the policy that applies and the running targets' deadlines (support/sla.py); the
    # periodic check looks at a conversation again at `sla_check_at`.
    language: Mapped[str | None] = mapped_column(String(16))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    sla_policy_id: Mapped[str | None] = mapped_column(String(32))
    first_response_due_at: Mapped[datetime | None]
    next_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    sla_check_at: Mapped[datetime | None] = mapped_column(index=True)
    # What the customer's latest messages say (the assistant's NLP, assistant_desk._relabel;
    # not a routing need).
    detected_language: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(64))
    intent_confidence: Mapped[float | None] = mapped_column(Float)
    sentiment: Mapped[str | None] = mapped_column(String(16))
    sentiment_score: Mapped[float | None] = mapped_column(Float)


class Message(TenantMixin, Base):
    """A message or private note; its body is sealed to its row (customer PII)."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        Index("ix_conversation_messages_thread", "workspace_id", "conversation_id", "id"),
    )

    conversation_id: Mapped[str] = mapped_column(String(32), conversation_fk())
    author_type: Mapped[AuthorType] = mapped_column(_enum(AuthorType))
    # Who wrote it: `staff:<id>`, `api_key:<id>`, `customer:<id>`, `assistant`, `system`.
    author: Mapped[str] = mapped_column(String(100))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # 1, 2, 3, ... within the conversation, given under its row lock, so in commit order: a
    # chat client that saw n misses nothing by asking for what came after n.
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A customer message's labels, written by a job after delivery (assistant/labels.py).
    language: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(64))
    intent_confidence: Mapped[float | None] = mapped_column(Float)
    sentiment: Mapped[str | None] = mapped_column(String(16))
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    labelled_at: Mapped[datetime | None]


class Activity(TenantMixin, Base):
    """One change to a conversation (status, priority, assignment, tags, merge), kept as its
    history; moves with the messages when the conversation is merged."""

    __tablename__ = "conversation_activities"
    __table_args__ = (
        Index("ix_conversation_activities_thread", "workspace_id", "conversation_id", "id"),
    )

    conversation_id: Mapped[str] = mapped_column(String(32), conversation_fk())
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Team(TenantMixin, Base):
    """A support team (billing, returns, a language, a brand's agents)."""

    __tablename__ = "support_teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))


class TeamMember(TenantMixin, Base):
    """A staff member's place in a team."""

    __tablename__ = "support_team_members"
    __table_args__ = (UniqueConstraint("team_id", "staff_id"),)

    team_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("support_teams.id", ondelete="CASCADE")
    )
    staff_id: Mapped[str] = mapped_column(String(32), staff_fk(), index=True)


class Agent(TenantMixin, Base):
    """A staff member's support settings in a workspace (missing: the defaults)."""

    __tablename__ = "support_agents"
    __table_args__ = (UniqueConstraint("workspace_id", "staff_id"),)

    staff_id: Mapped[str] = mapped_column(String(32), staff_fk())
    # Sees and acts only on conversations of their teams (or assigned to them).
    limited_to_teams: Mapped[bool] = mapped_column(Boolean, default=False)
    # Routing (support/routing.py): at most `capacity` open or snoozed conversations, only
    # while online; skills and languages (ISO 639-1) a conversation may need.
    capacity: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    skills: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    availability: Mapped[AgentAvailability] = mapped_column(
        _enum(AgentAvailability), default=AgentAvailability.away, server_default="away"
    )
    last_assigned_at: Mapped[datetime | None]


REPORT_INDEX = (
    "workspace_id", "kind", "created_at", "id", "seconds", "channel", "team_id", "staff_id",
    "conversation_id",
)  # fmt: skip


class MetricEvent(TenantMixin, Base):
    """An append-only support fact (a first response, a reply, a resolved cycle, a reopen,
    a hand-off) with what it measured, recorded when it happened."""

    __tablename__ = "conversation_metric_events"
    __table_args__ = (
        Index("ix_conversation_metric_events_kind", "workspace_id", "kind", "id"),
        # Metrics read a window's events of some kinds from this index alone (migration
        # 0030): every column they read but a resolution's `data`.
        Index("ix_conversation_metric_events_window", *REPORT_INDEX),
    )

    conversation_id: Mapped[str] = mapped_column(String(32), conversation_fk(), index=True)
    kind: Mapped[MetricKind] = mapped_column(_enum(MetricKind))
    seconds: Mapped[float | None] = mapped_column(Float)
    staff_id: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    team_id: Mapped[str | None] = mapped_column(String(32))
    # Facts of the moment a report filters by (resolved by the assistant alone, ...).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WidgetVisitor(TenantMixin, Base):
    """A chat widget visitor (one browser): a random token Rapport issued, stored hashed,
    bound to its workspace and source; a signed-in customer's verified user id joins their
    devices' conversations."""

    __tablename__ = "widget_visitors"

    source_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("sources.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Blind index of the user id the shop's server signed (never the id itself).
    user_index: Mapped[str | None] = mapped_column(String(64))
    # The profile holding that user id, when there is one: the conversations it opens are
    # that customer's (their orders, timeline and earlier chats beside them).
    customer_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="SET NULL")
    )
    # An address left before the visitor's first conversation (sealed to the row): it goes to
    # the next conversation they open, and is forgotten when who is signed in changes.
    email: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class WidgetThread(TenantMixin, Base):
    """A chat conversation's owner (a visitor, or every device of a verified customer) and how
    far each side has read."""

    __tablename__ = "widget_threads"
    __table_args__ = (
        Index("ix_widget_threads_visitor", "workspace_id", "visitor_id", "id"),
        Index("ix_widget_threads_user", "workspace_id", "user_index", "id"),
    )

    conversation_id: Mapped[str] = mapped_column(String(32), conversation_fk(), unique=True)
    visitor_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("widget_visitors.id", ondelete="CASCADE")
    )
    user_index: Mapped[str | None] = mapped_column(String(64))
    visitor_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    agent_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Where to email the replies its customer has not seen (sealed to the row; left in the
    # widget when no one was online), and the last reply emailed (support/widget_email.py).
    email: Mapped[bytes | None] = mapped_column(LargeBinary)
    emailed_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class WidgetClientMessage(TenantMixin, Base):
    """The id a widget gave a message it sent, so a resend after a reconnect finds the stored
    message instead of writing it twice."""

    __tablename__ = "widget_client_messages"
    __table_args__ = (UniqueConstraint("visitor_id", "client_id"),)

    visitor_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("widget_visitors.id", ondelete="CASCADE")
    )
    client_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(32), conversation_fk())
    message_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversation_messages.id", ondelete="CASCADE"), index=True
    )


# The email channel's settings and records live in their own module.
from rapport.support import email_models as email_models  # noqa: E402

# Routing settings, calendars, SLA policies and SLA events live in their own module.
from rapport.support import routing_models as routing_models  # noqa: E402

# The SMS channel's settings and records live in their own module.
from rapport.support import sms_models as sms_models  # noqa: E402

# Canned responses, macros and saved views (agent tools) live in their own module.
from rapport.support import tools_models as tools_models  # noqa: E402
