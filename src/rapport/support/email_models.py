"""Email channel tables: a workspace's inbound address and signature, and the email side of
conversation messages (threading ids, sealed address and subject, attachments)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false

from rapport.core.clock import utcnow
from rapport.core.db import Base, TenantMixin
from rapport.support.enums import EmailDirection


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16)


class EmailSettings(TenantMixin, Base):
    """A workspace's email channel: the secret of its inbound address (hashed), the
    signature under email replies, and the IMAP mailbox polled for inbound email (its
    password sealed to the row; `imap_next_poll_at` is the claim that makes one process
    poll it at a time)."""

    __tablename__ = "support_email_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    inbound_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    signature: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    imap_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    imap_host: Mapped[str | None] = mapped_column(String(255))
    imap_port: Mapped[int | None] = mapped_column(Integer)
    imap_security: Mapped[str | None] = mapped_column(String(16))
    imap_username: Mapped[str | None] = mapped_column(String(255))
    imap_password: Mapped[bytes | None] = mapped_column(LargeBinary)
    imap_folder: Mapped[str | None] = mapped_column(String(255))
    imap_poll_seconds: Mapped[int | None] = mapped_column(Integer)
    imap_next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    imap_polled_at: Mapped[datetime | None] = mapped_column()
    imap_error: Mapped[str | None] = mapped_column(String(300))


class EmailRecord(TenantMixin, Base):
    """The email side of a conversation message: its Message-ID and References (threading),
    the counterpart's address and the subject (sealed to the row), its attachments."""

    __tablename__ = "conversation_emails"
    __table_args__ = (UniqueConstraint("workspace_id", "header_message_id"),)

    message_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversation_messages.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[EmailDirection] = mapped_column(_enum(EmailDirection))
    header_message_id: Mapped[str | None] = mapped_column(String(255))
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # filename, content_type, size, sha256, kept (and why not): the files are on disk.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
