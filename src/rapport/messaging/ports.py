"""The outbound email port: what delivery needs from a mail transport."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Envelope:
    """One message as the transport sees it: who sends, to whom, and the RFC 5322 bytes."""

    sender: str
    recipients: tuple[str, ...]
    content: bytes


class DeliveryFailed(Exception):
    """The transport did not take the message; `permanent` when retrying cannot help.

    The reason names the failure (an SMTP code, a connection error) and never an address."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class EmailSender(Protocol):
    """A mail transport (SMTP in production and in tests)."""

    async def send(self, envelope: Envelope) -> None:
        """Hand the message over, or raise DeliveryFailed."""


@dataclass(frozen=True)
class TextMessage:
    """One SMS as a provider sees it: the account it goes out on, from a number or a
    messaging service, to a number, and where the provider reports its delivery."""

    account_sid: str
    auth_token: str
    to: str
    body: str
    from_number: str | None = None
    messaging_service_sid: str | None = None
    status_callback: str | None = None


@dataclass(frozen=True)
class TextAccepted:
    """The provider took the message: its id there and the status it reported."""

    sid: str
    status: str


class SmsSender(Protocol):
    """An SMS provider (Twilio's REST API; a local fake speaking it in tests)."""

    async def send(self, message: TextMessage) -> TextAccepted:
        """Hand the message over, or raise DeliveryFailed."""
