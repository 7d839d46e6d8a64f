"""Assistant tables: settings per workspace and channel, dialogue state per conversation, the
optional generative model per workspace, and the workspace's own intents."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.clock import utcnow
from rapport.core.db import Base, TenantMixin


class AssistantSettings(TenantMixin, Base):
    """Whether the assistant owns new conversations on a channel, and its hand-off rules."""

    __tablename__ = "assistant_settings"
    __table_args__ = (UniqueConstraint("workspace_id", "channel"),)

    channel: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(60))
    # Below this intent confidence the assistant asks once, then hands off.
    confidence_threshold: Mapped[float] = mapped_column(Float)
    # A sentiment score at or below this (-1..1) hands off at once.
    negative_sentiment_threshold: Mapped[float] = mapped_column(Float)
    # A knowledge-base hit scoring at least this is given as the answer.
    knowledge_threshold: Mapped[float] = mapped_column(Float)
    # A customer with a truthy trait of this name is a VIP: straight to people.
    vip_trait: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class GenerativeSettings(TenantMixin, Base):
    """The workspace's OpenAI-compatible chat-completions endpoint, used (when enabled) for
    the answers the rules would give from articles; its API key is sealed to the row."""

    __tablename__ = "assistant_generative"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    base_url: Mapped[str] = mapped_column(String(500))
    model: Mapped[str] = mapped_column(String(200))
    api_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    timeout_seconds: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dialogue(TenantMixin, Base):
    """The assistant's state in one conversation, sealed (it holds the email and address a
    customer gave): slots, the action waiting for confirmation, counters."""

    __tablename__ = "assistant_dialogues"
    __table_args__ = (UniqueConstraint("workspace_id", "conversation_id"),)

    conversation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    state: Mapped[bytes] = mapped_column(LargeBinary)
    handed_off: Mapped[bool] = mapped_column(Boolean, default=False)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomIntent(TenantMixin, Base):
    """An intent the workspace defined with a few example messages, and the answer the
    assistant gives when a customer's message is close to one of them."""

    __tablename__ = "assistant_intents"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(48))
    examples: Mapped[list[str]] = mapped_column(JSON)
    # Null only when the intent starts a task (it then needs no words of its own).
    answer: Mapped[str | None] = mapped_column(Text)
    # The answer in other languages, by language code (en, fr, ...): given to a message
    # detected in that language; `answer` to every other.
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # After its answer the conversation goes to people (a sales question, a partnership).
    hand_off: Mapped[bool] = mapped_column(Boolean, default=False)
    # A task the intent starts after its answer, as the shipped intents do (dialogue.TASKS).
    task: Mapped[str | None] = mapped_column(String(32))
    # The similarity (0-1) a message needs to take this intent (nlp/examples.py).
    min_similarity: Mapped[float] = mapped_column(Float)
    # The examples' vectors (float32 rows, in `examples` order) and the model that made them;
    # null when they describe no saved text (search embeds the examples when it meets them).
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    # Each example's language when the detector is sure of it, else "" (examples in another
    # language than most are matched as a group of their own); null: saved before 0038.
    example_languages: Mapped[list[str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomIntentDay(TenantMixin, Base):
    """How many customer messages took a custom intent on one day (UTC): counted by the turn
    that labels them, read by the console."""

    __tablename__ = "assistant_intent_days"
    __table_args__ = (UniqueConstraint("workspace_id", "intent_id", "day"),)

    intent_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("assistant_intents.id", ondelete="CASCADE")
    )
    day: Mapped[date]
    matches: Mapped[int] = mapped_column(Integer, default=0)
