"""SMS channel jobs: deliver an agent's text (registered by support/tasks.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.jobs import job
from rapport.support.sms_delivery import MAX_SMS_ATTEMPTS, deliver
from rapport.support.sms_outbound import DELIVER_SMS
from rapport.support.sms_surveys import text_survey as text_survey  # feedback's SMS links


# The job's own retries cover a crash between attempts; the attempts themselves are
# counted on the text (MAX_SMS_ATTEMPTS), each queued before it is made.
@job(DELIVER_SMS, max_attempts=MAX_SMS_ATTEMPTS + 3)
async def deliver_sms(
    session: AsyncSession, workspace_id: str, sms_record_id: str, give_up: bool = False
) -> None:
    """Make one delivery attempt of an agent's text (the send runs after commit)."""
    await deliver(session, workspace_id, sms_record_id, give_up=give_up)
