"""Inbound email by IMAP polling: a workspace's mailbox settings (the password sealed, never
returned), and the poller that fetches unseen messages by UID and feeds each raw message into
the same inbound path as the webhook (email_inbound.py).

A message is marked \\Seen only after the unit of work that recorded it has committed, so a
crash in between leaves it unseen: the next check fetches it again, and the inbound path's
Message-ID check makes the repeat add nothing. No database transaction is open while the
IMAP server is being talked to; every network call runs in a worker thread."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.errors import RapportError
from rapport.identity.audit import Actor, audit
from rapport.support.email_attachments import store_attachments
from rapport.support.email_inbound import InboundEmail, inbound_email
from rapport.support.email_models import EmailSettings
from rapport.support.email_parsing import parse_email
from rapport.support.email_repository import EmailSettingsRepository, ImapSweep
from rapport.support.email_sealing import open_imap_password, seal_imap_password
from rapport.support.imap_client import ImapFailure, Mailbox, refused_host
from rapport.support.imap_errors import (
    ImapHostRefused,
    ImapMailboxNotConfigured,
    ImapPasswordRequired,
)
from rapport.support.imap_schemas import (
    DEFAULT_PORTS,
    ImapMailboxRead,
    ImapMailboxUpdate,
    ImapSecurity,
    MailboxAccess,
)

logger = logging.getLogger(__name__)
# Messages taken from one mailbox in one check; the rest wait for the next one.
BATCH = 50
# Mailboxes one pass claims; a pass that claims this many runs again at once.
CLAIM = 20
# Mailboxes checked at the same time: a slow one does not hold the others.
CONCURRENT = 4
MAX_ERROR = 300
UNREADABLE = "The server's answer could not be read."


@dataclass(frozen=True)
class CheckResult:
    """What one check of a mailbox did."""

    workspace_id: str
    received: int = 0
    duplicates: int = 0
    set_aside: int = 0
    error: str | None = None


class ImapMailboxService:
    async def mailbox(self, session: AsyncSession, workspace_id: str) -> ImapMailboxRead:
        """Return the workspace's IMAP mailbox settings (never the password)."""
        found = await EmailSettingsRepository(session, workspace_id).current()
        if found is None or found.imap_host is None:
            raise ImapMailboxNotConfigured("No IMAP mailbox is connected.")
        return _read(found)

    async def configure(
        self, session: AsyncSession, workspace_id: str, body: ImapMailboxUpdate, actor: Actor
    ) -> ImapMailboxRead:
        """Connect (or change) the mailbox inbound email is polled from, audited; the next
        check is due at once."""
        refused = refused_host(body.host)
        if refused is not None:
            raise ImapHostRefused(f"The mailbox cannot be on {body.host}: {refused}")
        repository = EmailSettingsRepository(session, workspace_id)
        found = await repository.current(for_update=True)
        if found is None:
            found = await repository.add(EmailSettings(signature=""))
        same_account = found.imap_host == body.host and found.imap_username == body.username
        if body.password is None and not (same_account and found.imap_password is not None):
            raise ImapPasswordRequired("Give the mailbox's password.")
        if body.password is not None:
            found.imap_password = seal_imap_password(found.id, body.password)
        found.imap_host, found.imap_port = body.host, body.effective_port
        found.imap_security, found.imap_username = str(body.security), body.username
        found.imap_folder, found.imap_poll_seconds = body.folder, body.poll_seconds
        found.imap_enabled, found.imap_error = body.enabled, None
        found.imap_next_poll_at = found.updated_at = utcnow()
        await audit.record(
            session, "email_channel.imap_changed", actor, workspace_id=workspace_id,
            target_type="email_channel", target_id=found.id,
            details={"security": str(body.security), "enabled": body.enabled},
        )  # fmt: skip
        return _read(found)

    async def disconnect(self, session: AsyncSession, workspace_id: str, actor: Actor) -> None:
        """Forget the mailbox (its password too), audited."""
        found = await EmailSettingsRepository(session, workspace_id).current(for_update=True)
        if found is None or found.imap_host is None:
            raise ImapMailboxNotConfigured("No IMAP mailbox is connected.")
        found.imap_enabled, found.imap_password = False, None
        found.imap_host = found.imap_port = found.imap_security = found.imap_username = None
        found.imap_folder = found.imap_poll_seconds = found.imap_next_poll_at = None
        found.imap_polled_at = found.imap_error = None
        found.updated_at = utcnow()
        await audit.record(
            session, "email_channel.imap_removed", actor, workspace_id=workspace_id,
            target_type="email_channel", target_id=found.id,
        )  # fmt: skip


class ImapPoller:
    """Checks the mailboxes that are due, each in short units of work around the network."""

    def __init__(
        self,
        database: Database,
        data_dir: Path,
        batch: int = BATCH,
        check_seconds: float | None = None,
    ) -> None:
        self.database = database
        self.data_dir = data_dir
        self.batch = batch
        self.check_seconds = check_seconds  # None: imap_client.CHECK_SECONDS
        self._slots = asyncio.Semaphore(CONCURRENT)

    async def check_due(self) -> list[CheckResult]:
        """Claim the mailboxes whose check is due (moving their next check on, committed
        before any network call) and check them, a few at a time."""
        results: list[CheckResult] = []
        while True:
            claimed = await self._claim()
            results.extend(await asyncio.gather(*(self._checked(a) for a in claimed)))
            if len(claimed) < CLAIM:
                return results

    async def _checked(self, access: MailboxAccess) -> CheckResult:
        async with self._slots:
            return await self.check(access)

    async def _claim(self) -> list[MailboxAccess]:
        now = utcnow()
        async with self.database.session() as session:
            due = await ImapSweep(session).claim_due(now, CLAIM)
            claimed = []
            for row in due:
                row.imap_next_poll_at = now + timedelta(seconds=row.imap_poll_seconds or 60)
                access = _access(row)
                if access is not None:
                    claimed.append(access)
            return claimed

    async def check(self, access: MailboxAccess) -> CheckResult:
        """Take a mailbox's unseen messages into the inbox, then record how it went (an
        unexpected failure is this mailbox's error, never the end of the pass)."""
        try:
            result = await self._take(access)
        except Exception as error:
            logger.warning(
                "imap check broke",
                extra={"workspace_id": access.workspace_id, "error": type(error).__name__},
            )
            result = CheckResult(access.workspace_id, error=UNREADABLE)
        async with self.database.session() as session:
            found = await EmailSettingsRepository(session, access.workspace_id).current(
                for_update=True
            )
            if found is not None:
                found.imap_polled_at = utcnow()
                found.imap_error = result.error[:MAX_ERROR] if result.error else None
        if result.error:
            logger.warning("imap check failed", extra={"workspace_id": access.workspace_id})
        return result

    async def _take(self, access: MailboxAccess) -> CheckResult:
        received = duplicates = set_aside = 0
        try:
            mailbox = await asyncio.to_thread(Mailbox.open, access, self.check_seconds)
        except ImapFailure as failure:
            return CheckResult(access.workspace_id, error=str(failure))
        try:
            for uid in await asyncio.to_thread(mailbox.unseen, self.batch):
                raw = await asyncio.to_thread(mailbox.fetch, uid)
                outcome = None if raw is None else await self._record(access.workspace_id, raw)
                if outcome is None:
                    await asyncio.to_thread(mailbox.set_aside, uid)
                    set_aside += 1
                    continue
                # Only now, after the commit: a crash before this line re-delivers.
                await asyncio.to_thread(mailbox.mark_seen, uid)
                if outcome:
                    duplicates += 1
                else:
                    received += 1
        except ImapFailure as failure:
            error: str | None = str(failure)
        else:
            error = None
        finally:
            await asyncio.to_thread(mailbox.close)
        if set_aside and error is None:
            error = f"{set_aside} message(s) could not be read; they are flagged in the mailbox."
        return CheckResult(access.workspace_id, received, duplicates, set_aside, error)

    async def _record(self, workspace_id: str, raw: bytes) -> bool | None:
        """Feed one raw message into the inbound path and commit. Return whether it was a
        repeat, or None for a message that cannot be taken (malformed, refused)."""
        try:
            parsed = parse_email(raw)
            stored = store_attachments(self.data_dir, workspace_id, parsed.attachments)
            async with self.database.session() as session:
                taken = await inbound_email.record(
                    session, workspace_id, InboundEmail(parsed, stored)
                )
        except RapportError:
            return None
        return taken.duplicate


def _access(row: EmailSettings) -> MailboxAccess | None:
    if row.imap_host is None or row.imap_username is None or row.imap_security is None:
        return None
    security = ImapSecurity(row.imap_security)
    return MailboxAccess(
        workspace_id=row.workspace_id,
        host=row.imap_host,
        port=row.imap_port or DEFAULT_PORTS[security],
        security=security,
        username=row.imap_username,
        password=open_imap_password(row),
        folder=row.imap_folder or "INBOX",
    )


def _read(found: EmailSettings) -> ImapMailboxRead:
    security = ImapSecurity(found.imap_security or ImapSecurity.imaps)
    return ImapMailboxRead(
        host=found.imap_host or "",
        port=found.imap_port or DEFAULT_PORTS[security],
        security=security,
        username=found.imap_username or "",
        password_set=found.imap_password is not None,
        folder=found.imap_folder or "INBOX",
        poll_seconds=found.imap_poll_seconds or 60,
        enabled=found.imap_enabled,
        last_polled_at=found.imap_polled_at,
        last_error=found.imap_error,
    )


imap_mailboxes = ImapMailboxService()
