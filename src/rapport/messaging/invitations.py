"""The staff invitation email: the link the inviter used to pass on by hand."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.identity.events import open_invitation
from rapport.messaging.service import outbound

PURPOSE = "identity.invitation"
SUBJECT = "You are invited to Rapport"
TEXT = """Hello,

You have been invited to join a team on Rapport. Open this link to accept (it works for
seven days and only once):

{link}

If you did not expect this invitation, ignore this email.
"""


async def email_invitation(
    session: AsyncSession, workspace_id: str, invitation_id: str, sealed: str
) -> None:
    """Queue the invitation's email with its link, when SMTP is configured."""
    if outbound.sender is None:
        return  # no mail transport: the inviter passes the link on, as before
    invited = open_invitation(invitation_id, sealed)
    message = EmailMessage()
    message["To"] = invited.email
    message["Subject"] = SUBJECT
    message.set_content(TEXT.format(link=f"{outbound.base_url.rstrip('/')}{invited.link_path}"))
    await outbound.queue(session, workspace_id, message, purpose=PURPOSE)
