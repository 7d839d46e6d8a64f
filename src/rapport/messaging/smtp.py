"""The SMTP adapter of the EmailSender port (the standard library's smtplib, in a thread)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass

from rapport.messaging.ports import DeliveryFailed, Envelope

SMTP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpSender:
    """Sends through one SMTP server, with STARTTLS and a login when configured."""

    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = SMTP_TIMEOUT_SECONDS

    async def send(self, envelope: Envelope) -> None:
        """Hand the message to the server; raise DeliveryFailed with the reply code."""
        await asyncio.to_thread(self._send, envelope)

    def _send(self, envelope: Envelope) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as client:
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password or "")
                # Recipients refused while others took it are not retried: that would
                # repeat the message to those who have it.
                client.sendmail(envelope.sender, list(envelope.recipients), envelope.content)
        except smtplib.SMTPRecipientsRefused as error:
            codes = sorted({code for code, _ in error.recipients.values()})
            raise DeliveryFailed(
                f"SMTP {codes} for every recipient", permanent=_permanent(codes)
            ) from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryFailed(
                f"SMTP {error.smtp_code}", permanent=_permanent([error.smtp_code])
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"SMTP connection: {type(error).__name__}") from None


def _permanent(codes: list[int]) -> bool:
    return bool(codes) and all(500 <= code < 600 for code in codes)
