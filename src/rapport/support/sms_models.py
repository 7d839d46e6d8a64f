"""SMS channel tables: a workspace's Twilio account (auth token sealed) and the SMS side of
conversation messages (Twilio's message id, the customer's number sealed, delivery)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.clock import utcnow
from rapport.core.db import Base, TenantMixin


class SmsDirection(enum.StrEnum):
    """Whether a text came from the customer or went to them."""

    inbound = "inbound"
    outbound = "outbound"


class SmsStatus(enum.StrEnum):
    """Where a text stands: Twilio's statuses, plus `received` for the customer's own."""

    received = "received"
    queued = "queued"
    accepted = "accepted"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"


class SmsSettings(TenantMixin, Base):
    """A workspace's SMS channel: its Twilio account, the auth token sealed to the row, and
    the number (or messaging service) replies go out from. Its id names its webhooks."""

    __tablename__ = "support_sms_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    account_sid: Mapped[str] = mapped_column(String(64))
    auth_token: Mapped[bytes] = mapped_column(LargeBinary)
    from_number: Mapped[str | None] = mapped_column(String(32))
    messaging_service_sid: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsRecord(TenantMixin, Base):
    """The SMS side of a conversation message: Twilio's MessageSid (a retried webhook is
    recognised by it), the customer's number as a blind index (threading) and sealed with
    the media links, and an outbound text's delivery."""

    __tablename__ = "conversation_sms"
    __table_args__ = (
        UniqueConstraint("workspace_id", "message_sid"),
        Index("ix_conversation_sms_phone", "workspace_id", "phone_index", "id"),
    )

    message_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversation_messages.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[SmsDirection] = mapped_column(
        Enum(SmsDirection, native_enum=False, length=16)
    )
    message_sid: Mapped[str | None] = mapped_column(String(64))
    phone_index: Mapped[str] = mapped_column(String(64))
    # The customer's number, the shop's number they wrote to, MMS media links (JSON).
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[SmsStatus] = mapped_column(Enum(SmsStatus, native_enum=False, length=16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
