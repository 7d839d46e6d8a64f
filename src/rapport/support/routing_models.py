"""Routing and SLA tables: routing settings, the business calendar, SLA policies and the
append-only record of SLA warnings and breaches."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.db import Base, TenantMixin
from rapport.support.enums import Channel, Priority, RoutingMode, SlaEventKind, SlaTarget


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16)


class RoutingSettings(TenantMixin, Base):
    """A workspace's automatic assignment (missing: off)."""

    __tablename__ = "support_routing_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    mode: Mapped[RoutingMode] = mapped_column(_enum(RoutingMode), default=RoutingMode.round_robin)


class Calendar(TenantMixin, Base):
    """A workspace's business hours (in its time zone) and holidays (missing: always open)."""

    __tablename__ = "support_calendars"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    # Seven lists (Monday first) of [start, end) minutes after local midnight.
    weekly: Mapped[list[list[list[int]]]] = mapped_column(JSON)
    # ISO dates (YYYY-MM-DD), local to the workspace.
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)


class SlaPolicy(TenantMixin, Base):
    """Targets in business minutes for the conversations it matches; the lowest `position`
    among matching policies applies."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Empty: any priority / any channel.
    priorities: Mapped[list[Priority]] = mapped_column(JSON, default=list)
    channels: Mapped[list[Channel]] = mapped_column(JSON, default=list)
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    warn_before_minutes: Mapped[int] = mapped_column(Integer, default=15)


class SlaEvent(TenantMixin, Base):
    """An SLA target about to be missed or missed, recorded once per deadline, never updated
    or deleted."""

    __tablename__ = "sla_events"
    __table_args__ = (
        UniqueConstraint("conversation_id", "target", "kind", "due_at"),
        Index("ix_sla_events_kind", "workspace_id", "kind", "id"),
    )

    conversation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    policy_id: Mapped[str] = mapped_column(String(32))
    target: Mapped[SlaTarget] = mapped_column(_enum(SlaTarget))
    kind: Mapped[SlaEventKind] = mapped_column(_enum(SlaEventKind))
    due_at: Mapped[datetime]
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    priority: Mapped[Priority] = mapped_column(_enum(Priority))
    team_id: Mapped[str | None] = mapped_column(String(32))
    assignee_id: Mapped[str | None] = mapped_column(String(32))
