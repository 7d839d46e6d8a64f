"""IMAP mailbox API shapes: the mailbox a workspace's inbound email is polled from."""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

# A DNS name or an IP address (IPv6 without brackets).
HostName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._:-]{1,253}$"),
]
# Printable ASCII without quotes or backslashes: the name is sent quoted to the server.
FolderName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[ !#-\[\]-~]{1,255}$")
]
MIN_POLL_SECONDS = 10
MAX_POLL_SECONDS = 3600
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class ImapSecurity(enum.StrEnum):
    """How the connection to the IMAP server is protected."""

    imaps = "imaps"  # TLS from the first byte (port 993)
    starttls = "starttls"  # plain connection upgraded by STARTTLS (port 143)
    plain = "plain"  # no TLS: only to a server on this host


DEFAULT_PORTS = {ImapSecurity.imaps: 993, ImapSecurity.starttls: 143, ImapSecurity.plain: 143}


def is_loopback(host: str) -> bool:
    """Tell whether a host name or address is this machine."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ImapMailboxUpdate(BaseModel):
    host: HostName = Field(description="The IMAP server (imap.example.com).")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Its port (default 993 for imaps, else 143)."
    )
    security: ImapSecurity = Field(
        default=ImapSecurity.imaps,
        description="imaps (TLS), starttls, or plain (only for a server on localhost).",
    )
    username: str = Field(min_length=1, max_length=255, description="The mailbox's user name.")
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="The mailbox's password, stored sealed and never shown again. Needed "
        "the first time and when the host or user name changes; left out, the stored one "
        "is kept.",
    )
    folder: FolderName = Field(default="INBOX", description="The folder polled for new mail.")
    poll_seconds: int = Field(
        default=60,
        ge=MIN_POLL_SECONDS,
        le=MAX_POLL_SECONDS,
        description="How often the mailbox is checked, in seconds.",
    )
    enabled: bool = Field(default=True, description="Poll the mailbox (false: paused).")

    @model_validator(mode="after")
    def _plain_only_locally(self) -> ImapMailboxUpdate:
        if self.security == ImapSecurity.plain and not is_loopback(self.host):
            raise ValueError("plain IMAP (no TLS) is only allowed to a server on localhost")
        if any(ord(char) < 32 or char == "\x7f" for char in self.username):
            raise ValueError("the user name holds a control character")
        if self.password is not None and any(char in "\r\n\x00" for char in self.password):
            raise ValueError("the password holds a line break or NUL")
        return self

    @property
    def effective_port(self) -> int:
        """The port given, or the security's usual one."""
        return self.port or DEFAULT_PORTS[self.security]


class ImapMailboxRead(BaseModel):
    host: str = Field(description="The IMAP server.")
    port: int = Field(description="Its port.")
    security: ImapSecurity = Field(description="imaps, starttls or plain.")
    username: str = Field(description="The mailbox's user name.")
    password_set: bool = Field(description="A password is stored (it is never shown).")
    folder: str = Field(description="The folder polled for new mail.")
    poll_seconds: int = Field(description="How often the mailbox is checked, in seconds.")
    enabled: bool = Field(description="The mailbox is polled.")
    last_polled_at: datetime | None = Field(description="When the last check finished.")
    last_error: str | None = Field(description="What went wrong in the last check, if anything.")


@dataclass(frozen=True)
class MailboxAccess:
    """What the poller needs to reach one workspace's mailbox (the password opened)."""

    workspace_id: str
    host: str
    port: int
    security: ImapSecurity
    username: str
    password: str = field(repr=False)
    folder: str
