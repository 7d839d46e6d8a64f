"""Messaging jobs: deliver an outbound email; email a staff invitation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.jobs import job
from rapport.core.outbox import subscribe
from rapport.identity.events import STAFF_INVITED
from rapport.messaging.invitations import email_invitation
from rapport.messaging.service import DELIVER_JOB, outbound


@job(DELIVER_JOB)
async def deliver_email(session: AsyncSession, workspace_id: str, outbound_email_id: str) -> None:
    """Make one delivery attempt of an outbound email (the send runs after commit)."""
    await outbound.deliver(session, workspace_id, outbound_email_id)


@job("messaging.email_invitation")
async def email_staff_invitation(
    session: AsyncSession, workspace_id: str, invitation_id: str, sealed: str, **_: Any
) -> None:
    """Email a new staff invitation its link."""
    await email_invitation(session, workspace_id, invitation_id, sealed)


subscribe(STAFF_INVITED, "messaging.email_invitation")
