"""Survey links by SMS: the text feedback asks for (a domain event, sealed, it holds a
single-use link) is written into the SMS conversation the survey follows as a public system
message and sent through the channel's durable delivery jobs, like an agent's reply."""

from __future__ import annotations

import base64
import binascii
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.crypto import DecryptionError, keyring
from rapport.core.jobs import job
from rapport.core.outbox import subscribe
from rapport.support.enums import AuthorType, Channel
from rapport.support.errors import ConversationMerged, ConversationNotFound
from rapport.support.messages import write_message
from rapport.support.service import conversations
from rapport.support.sms_inbound import SMS_ACTING
from rapport.support.sms_outbound import sms_channel

logger = logging.getLogger("rapport.support.sms")

# Feedback's SURVEY_TEXT event and its seal's aad (feedback/texting.py), spelt here:
# feedback and support are sibling layers.
SURVEY_TEXT = "feedback.survey_text"
TEXT_AAD = "feedback.survey_text:{}"
TEXT_SURVEY = "support.text_survey"


@job(TEXT_SURVEY, max_attempts=5)
async def text_survey(
    session: AsyncSession,
    workspace_id: str,
    conversation_id: str,
    invitation_id: str,
    sealed_text: str,
    **event: object,
) -> None:
    """Write a survey's text into its SMS conversation and queue it to the customer."""
    try:
        text = keyring().decrypt(base64.b64decode(sealed_text), TEXT_AAD.format(invitation_id))
    except (DecryptionError, binascii.Error, ValueError):
        logger.warning("survey text not opened")
        return
    try:
        conversation = await conversations.get_for_change(
            session, workspace_id, conversation_id, SMS_ACTING
        )
    except (ConversationNotFound, ConversationMerged):
        return  # erased or merged meanwhile: nobody to text on this thread
    if conversation.channel != Channel.sms:
        return
    message = await write_message(
        session, conversation, AuthorType.system, "system", text, acting=SMS_ACTING
    )
    await sms_channel.send_reply(session, conversation, message.id, text)


subscribe(SURVEY_TEXT, TEXT_SURVEY)
