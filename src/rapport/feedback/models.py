"""Feedback tables: surveys, their per-recipient invitations, responses and settings."""

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
from rapport.feedback.enums import ResponseOrigin, SurveyKind


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, values_callable=_values)


def _values(kind: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in kind]


class Survey(TenantMixin, Base):
    """A survey: its questions (JSON, see schemas.Question), what sends it and how."""

    __tablename__ = "feedback_surveys"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[SurveyKind] = mapped_column(_enum(SurveyKind))
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # {"event": conversation_resolved|order_delivered|manual, "delay_days": N}
    trigger: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyInvitation(TenantMixin, Base):
    """One survey sent to one customer: its link is the id signed with the key ring (HMAC),
    so a reminder can carry it again; it works until it expires or is answered, once."""

    __tablename__ = "feedback_invitations"
    __table_args__ = (
        Index("ix_feedback_invitations_customer", "workspace_id", "customer_id", "created_at"),
    )

    survey_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("feedback_surveys.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(32))
    team_id: Mapped[str | None] = mapped_column(String(32))
    staff_id: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]


ANSWERED_INDEX = (
    "workspace_id", "kind", "answered_at", "score", "channel", "team_id", "staff_id", "survey_id",
)  # fmt: skip


class SurveyResponse(TenantMixin, Base):
    """One answer to a survey or one imported past answer; the comment and the other
    answers are sealed to the row (customers write PII into free text)."""

    __tablename__ = "feedback_responses"
    __table_args__ = (
        # Every metric reads one kind over a window of answer times, and counts its scores by
        # these columns from the index alone (migration 0032).
        Index("ix_feedback_responses_kind_answered", *ANSWERED_INDEX),
        Index("ix_feedback_responses_customer", "workspace_id", "customer_id", "answered_at"),
        Index("ix_feedback_responses_conversation", "workspace_id", "conversation_id"),
        UniqueConstraint("workspace_id", "dedupe_key"),
    )

    survey_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("feedback_surveys.id", ondelete="SET NULL"), index=True
    )
    invitation_id: Mapped[str | None] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="SET NULL")
    )
    kind: Mapped[SurveyKind] = mapped_column(_enum(SurveyKind))
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[bytes | None] = mapped_column(LargeBinary)
    answers: Mapped[bytes | None] = mapped_column(LargeBinary)
    channel: Mapped[str | None] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(32))
    team_id: Mapped[str | None] = mapped_column(String(32))
    staff_id: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime]
    origin: Mapped[ResponseOrigin] = mapped_column(_enum(ResponseOrigin))
    # What makes a response the same one again (a re-imported row, a re-submitted link).
    dedupe_key: Mapped[str] = mapped_column(String(64))
    sentiment_label: Mapped[str | None] = mapped_column(String(16))
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)


class FeedbackSettings(TenantMixin, Base):
    """A workspace's survey settings (missing: the defaults)."""

    __tablename__ = "feedback_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    # At most one survey per customer in this many days.
    throttle_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
