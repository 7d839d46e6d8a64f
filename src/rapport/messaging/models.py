"""Messaging tables: outbound emails waiting for, or past, delivery."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.db import Base, TenantMixin
from rapport.messaging.enums import DeliveryStatus


class OutboundEmail(TenantMixin, Base):
    """One email to deliver: its envelope and content sealed to the row (addresses and text
    are personal data, an invitation holds a link), its delivery attempts and outcome."""

    __tablename__ = "outbound_emails"

    # What it is for (`support.reply`, `identity.invitation`), for counting, never content.
    purpose: Mapped[str] = mapped_column(String(50))
    message_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=16), default=DeliveryStatus.queued
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
