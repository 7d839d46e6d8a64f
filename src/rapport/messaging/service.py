"""Outbound email: queued in the caller's transaction, delivered by jobs with retries.

No SMTP conversation ever happens inside a unit of work: a delivery job locks its email,
counts the attempt and queues the next one (the retry exists before the try), and the send
runs after that unit commits; its outcome is written by a short unit of its own."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid, parseaddr

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.config import Settings, get_settings
from rapport.core.clock import utcnow
from rapport.core.crypto import keyring
from rapport.core.db import after_commit, unit_of_work
from rapport.core.ids import new_id
from rapport.core.jobs import backoff, enqueue
from rapport.messaging.enums import DeliveryStatus
from rapport.messaging.models import OutboundEmail
from rapport.messaging.ports import DeliveryFailed, EmailSender, Envelope
from rapport.messaging.repository import OutboundEmailRepository
from rapport.messaging.smtp import SMTP_TIMEOUT_SECONDS, SmtpSender

logger = logging.getLogger("rapport.messaging")

DELIVER_JOB = "messaging.deliver_email"
MAX_DELIVERY_ATTEMPTS = 8
# The next attempt is queued before a send starts, and waits out the send's own timeout.
ATTEMPT_SECONDS = SMTP_TIMEOUT_SECONDS * 2
NOT_CONFIGURED = "SMTP is not configured (RAPPORT_SMTP_HOST)"


def sealed_aad(outbound_email_id: str) -> str:
    """Return the associated data that binds a sealed envelope to its row."""
    return f"outbound_emails.sealed:{outbound_email_id}"


class OutboundService:
    def __init__(self) -> None:
        self._sender: EmailSender | None = None
        self._mail_from = ""
        self._base_url = ""
        self._configured = False

    def configure(self, sender: EmailSender | None, mail_from: str, base_url: str) -> None:
        """Set the process's mail transport (None: not configured), its From address and
        the address links in emails point to."""
        self._sender, self._mail_from, self._base_url = sender, mail_from, base_url
        self._configured = True

    def configure_from(self, settings: Settings) -> None:
        """Configure the transport from RAPPORT_SMTP_* and RAPPORT_MAIL_FROM."""
        sender = None
        if settings.smtp_host:
            password = settings.smtp_password
            sender = SmtpSender(
                host=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=None if password is None else password.get_secret_value(),
                starttls=settings.smtp_starttls,
            )
        self.configure(sender, settings.mail_from, settings.base_url)

    @property
    def sender(self) -> EmailSender | None:
        """Return the mail transport, None when SMTP is not configured."""
        if not self._configured:
            self.configure_from(get_settings())
        return self._sender

    @property
    def mail_from(self) -> str:
        """Return the From address of everything Rapport sends."""
        if not self._configured:
            self.configure_from(get_settings())
        return self._mail_from

    @property
    def base_url(self) -> str:
        """Return the address links in emails point to (RAPPORT_BASE_URL)."""
        if not self._configured:
            self.configure_from(get_settings())
        return self._base_url

    def new_message_id(self) -> str:
        """Return a new Message-ID in the From address's domain."""
        domain = parseaddr(self.mail_from)[1].rpartition("@")[2] or "rapport.invalid"
        return make_msgid(domain=domain)

    async def queue(
        self, session: AsyncSession, workspace_id: str, message: EmailMessage, *, purpose: str
    ) -> OutboundEmail:
        """Store a message for delivery and queue its first attempt, in the caller's
        transaction; it gets the From address and a Message-ID when it has none."""
        if message["From"] is None:
            message["From"] = self.mail_from
        if message["Message-ID"] is None:
            message["Message-ID"] = self.new_message_id()
        recipients = [address for _, address in getaddresses(message.get_all("To", []))]
        envelope = {
            "sender": parseaddr(self.mail_from)[1],
            "recipients": recipients,
            "content": message.as_string(policy=policy.SMTP),
        }
        email_id = new_id()
        sealed = keyring().encrypt(json.dumps(envelope), sealed_aad(email_id))
        row = await OutboundEmailRepository(session, workspace_id).add(
            OutboundEmail(
                id=email_id, purpose=purpose, message_id=str(message["Message-ID"]), sealed=sealed
            )
        )
        enqueue(session, DELIVER_JOB, workspace_id=workspace_id, outbound_email_id=row.id)
        return row

    async def deliver(
        self, session: AsyncSession, workspace_id: str, outbound_email_id: str
    ) -> None:
        """Make one delivery attempt: count it, queue the next, send after commit."""
        email = await OutboundEmailRepository(session, workspace_id).for_delivery(outbound_email_id)
        if email is None or email.status != DeliveryStatus.queued:
            return  # delivered, given up, or gone with its workspace
        sender = self.sender
        if sender is None:
            # Kept until someone configures SMTP; looked at again every hour at most.
            email.last_error = NOT_CONFIGURED
            self._retry(session, email, backoff(MAX_DELIVERY_ATTEMPTS * 2))
            return
        email.attempts += 1
        if email.attempts > MAX_DELIVERY_ATTEMPTS:
            email.status = DeliveryStatus.dead
            return
        self._retry(session, email, timedelta(seconds=ATTEMPT_SECONDS) + backoff(email.attempts))
        envelope = _open(email)
        engine = session.bind
        if not isinstance(engine, AsyncEngine):
            raise TypeError("delivery needs a session bound to an engine")

        async def attempt() -> None:
            await _attempt(engine, sender, workspace_id, outbound_email_id, envelope)

        after_commit(session, attempt)

    def _retry(self, session: AsyncSession, email: OutboundEmail, delay: timedelta) -> None:
        enqueue(
            session, DELIVER_JOB, workspace_id=email.workspace_id,
            outbound_email_id=email.id, delay=delay,
        )  # fmt: skip


def _open(email: OutboundEmail) -> Envelope:
    opened = json.loads(keyring().decrypt(email.sealed, sealed_aad(email.id)))
    return Envelope(
        sender=opened["sender"],
        recipients=tuple(opened["recipients"]),
        content=opened["content"].encode(),
    )


async def _attempt(
    engine: AsyncEngine,
    sender: EmailSender,
    workspace_id: str,
    outbound_email_id: str,
    envelope: Envelope,
) -> None:
    """Send outside any unit of work, then record the outcome in a short one; never raise
    (this runs after the job's commit, where an error would rerun its neighbours)."""
    outcome: dict[str, object]
    try:
        await sender.send(envelope)
        outcome = {"status": DeliveryStatus.sent, "sent_at": utcnow(), "last_error": None}
    except DeliveryFailed as error:
        outcome = {"last_error": error.reason[:200]}
        if error.permanent:
            outcome["status"] = DeliveryStatus.dead
    except Exception as error:
        outcome = {"last_error": f"sender failed: {type(error).__name__}"}
    try:
        async with unit_of_work(engine) as session:
            await OutboundEmailRepository(session, workspace_id).record(
                outbound_email_id, **outcome
            )
    except Exception as error:
        # The queued retry finds the email still queued and tries again.
        logger.warning("delivery outcome not recorded", extra={"error": type(error).__name__})
    if "status" not in outcome or outcome["status"] != DeliveryStatus.sent:
        logger.warning(
            "email not delivered",
            extra={"outbound_email_id": outbound_email_id, "reason": outcome["last_error"]},
        )


outbound = OutboundService()
