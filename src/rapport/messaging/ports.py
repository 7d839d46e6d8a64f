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
