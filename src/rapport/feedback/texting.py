"""Survey links by SMS: feedback publishes the text (sealed, it holds the single-use link)
and the support desk's SMS channel sends it into the conversation the survey follows,
through its durable delivery jobs (feedback and support are sibling layers: they meet
through this domain event only)."""

from __future__ import annotations

import base64

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.crypto import keyring
from rapport.core.outbox import publish
from rapport.feedback.links import survey_link
from rapport.feedback.models import SurveyInvitation
from rapport.messaging.service import outbound

# Handled by support/sms_tasks.py (it spells the name and the seal's aad the same way).
SURVEY_TEXT = "feedback.survey_text"
TEXT_AAD = "feedback.survey_text:{}"
SMS_TEXT = "How did we do? Tell us in a few seconds (the link works once, for {days} days): {link}"


def seal_survey_text(invitation_id: str, text: str) -> str:
    """Seal a survey text for the event that carries it (base64, bound to the invitation)."""
    blob = keyring().encrypt(text, TEXT_AAD.format(invitation_id))
    return base64.b64encode(blob).decode()


def publish_survey_text(
    session: AsyncSession, invitation: SurveyInvitation, conversation_id: str, days: int
) -> None:
    """Ask the SMS channel to text the survey's link into the conversation it follows."""
    link = survey_link(outbound.base_url, invitation.id)
    text = SMS_TEXT.format(days=days, link=link)
    publish(
        session, SURVEY_TEXT, workspace_id=invitation.workspace_id,
        conversation_id=conversation_id, invitation_id=invitation.id,
        sealed_text=seal_survey_text(invitation.id, text),
    )  # fmt: skip
