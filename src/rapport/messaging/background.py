"""What messaging runs beside the web server (see rapport.domains.background)."""

from __future__ import annotations

from dataclasses import dataclass

from rapport.config import Settings
from rapport.messaging.service import outbound


@dataclass(frozen=True)
class Mailer:
    """The app's mail transport, configured from its settings when the app is built."""

    configured: bool

    def start(self) -> None:
        """Nothing runs: delivery happens in jobs."""

    def stop(self) -> None:
        """Nothing to stop."""


def mailer(settings: Settings) -> Mailer:
    """Configure outbound email from the app's settings (RAPPORT_SMTP_*, RAPPORT_MAIL_FROM)."""
    outbound.configure_from(settings)
    return Mailer(configured=outbound.sender is not None)
