"""Sending surveys: after a resolved conversation (or by hand), throttled per customer,
marketing surveys only with the channel's consent; by email with one reminder at most, or
inline in the chat widget."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc, utcnow
from rapport.core.jobs import enqueue
from rapport.customers.enums import ConsentPurpose
from rapport.customers.service import customers
from rapport.feedback.enums import DeliveryChannel, SurveyTrigger
from rapport.feedback.errors import SurveyNotSent
from rapport.feedback.inline import announce_inline
from rapport.feedback.links import survey_link, survey_token
from rapport.feedback.models import Survey, SurveyInvitation
from rapport.feedback.repository import InvitationRepository, SurveyRepository
from rapport.feedback.schemas import SurveySend, SurveySendRead
from rapport.feedback.service import feedback
from rapport.feedback.texting import publish_survey_text
from rapport.messaging.service import outbound

LINK_DAYS = 14
REMINDER_AFTER = timedelta(days=3)
REMIND_JOB = "feedback.remind"
SEND_JOB = "feedback.send_survey"
EMAIL_PURPOSE = "feedback.survey"
CONSENT_FOR = {
    DeliveryChannel.email: ConsentPurpose.marketing_email,
    DeliveryChannel.sms: ConsentPurpose.marketing_sms,
}
SUBJECT = "How did we do?"
REMINDER_SUBJECT = "A reminder: how did we do?"
TEXT = """Hello,

{question}

Answer in a few seconds here (the link works once, for {days} days):

{link}

Thank you!
"""


@dataclass(frozen=True)
class FollowedConversation:
    """The conversation a survey follows: its id, channel, team and agent."""

    id: str
    channel: str
    team_id: str | None
    staff_id: str | None


@dataclass(frozen=True)
class InlineSurvey:
    """A survey the chat widget shows after a conversation: its questions and the token its
    answers are posted with."""

    survey_id: str
    token: str
    questions: list[dict[str, object]]


class DeliveryService:
    async def send_for_trigger(
        self,
        session: AsyncSession,
        workspace_id: str,
        trigger: SurveyTrigger,
        customer_id: str,
        followed: FollowedConversation | None = None,
    ) -> SurveyInvitation | None:
        """Send the workspace's active survey for a trigger to a customer, if one exists."""
        survey = await SurveyRepository(session, workspace_id).active_for(str(trigger))
        if survey is None:
            return None
        return await self.send(session, workspace_id, survey, customer_id, followed)

    async def send(
        self,
        session: AsyncSession,
        workspace_id: str,
        survey: Survey,
        customer_id: str | None,
        followed: FollowedConversation | None = None,
    ) -> SurveyInvitation | None:
        """Send a survey on its first channel that can reach the customer; None when the
        customer had one within the throttle or no channel may be used. Without a customer
        (an anonymous chat visitor) only the inline survey of the chat may be sent."""
        if customer_id is None:
            return await self._ask_anonymous(session, survey, followed)
        customer_id = (await customers.live(session, workspace_id, customer_id)).id
        # The throttle check and the invitation go together, one send per customer at a time.
        await InvitationRepository(session, workspace_id).lock_customer(customer_id)
        if await self._throttled(session, workspace_id, customer_id):
            return None
        for channel in survey.channels:
            if not await self._may_use(session, workspace_id, survey, customer_id, channel):
                continue
            if channel == DeliveryChannel.email:
                address = await self._email_of(session, workspace_id, customer_id)
                if address is not None and outbound.sender is not None:
                    invitation = await self._invite(session, survey, customer_id, channel, followed)
                    await self._email(session, invitation, survey, address, SUBJECT)
                    enqueue(session, REMIND_JOB, workspace_id=workspace_id,
                            invitation_id=invitation.id, delay=REMINDER_AFTER)  # fmt: skip
                    return invitation
            if channel == DeliveryChannel.sms and followed and followed.channel == "sms":
                invitation = await self._invite(session, survey, customer_id, channel, followed)
                publish_survey_text(session, invitation, followed.id, LINK_DAYS)
                return invitation
            if channel == DeliveryChannel.chat and followed and followed.channel == "chat":
                invitation = await self._invite(session, survey, customer_id, channel, followed)
                announce_inline(session, workspace_id, followed.id)
                return invitation
        return None

    async def send_by_hand(
        self, session: AsyncSession, workspace_id: str, survey_id: str, body: SurveySend
    ) -> SurveySendRead:
        """Send a survey to one customer now (the throttle and consent still apply)."""
        survey = await feedback.get_survey(session, workspace_id, survey_id)
        invitation = await self.send(session, workspace_id, survey, body.customer_id)
        if invitation is None:
            raise SurveyNotSent(
                "Not sent: the customer had a survey within the throttle, or no channel of "
                "this survey may reach them."
            )
        return SurveySendRead(
            invitation_id=invitation.id,
            channel=invitation.channel,
            expires_at=invitation.expires_at,
        )

    async def remind(self, session: AsyncSession, workspace_id: str, invitation_id: str) -> bool:
        """Send the one reminder of an unanswered, unexpired email survey; tell if it went."""
        invitation = await InvitationRepository(session, workspace_id).locked(invitation_id)
        now = utcnow()
        if (
            invitation is None
            or invitation.answered_at is not None
            or invitation.reminded_at is not None
            or as_utc(invitation.expires_at) <= now
            or invitation.channel != DeliveryChannel.email
            or invitation.customer_id is None
        ):
            return False
        survey = await feedback.get_survey(session, workspace_id, invitation.survey_id)
        address = await self._email_of(session, workspace_id, invitation.customer_id)
        if address is None or outbound.sender is None:
            return False
        invitation.reminded_at = now
        await self._email(session, invitation, survey, address, REMINDER_SUBJECT)
        return True

    async def inline_survey(
        self, session: AsyncSession, workspace_id: str, conversation_id: str
    ) -> InlineSurvey | None:
        """Return the unanswered inline survey of a chat conversation, for the widget."""
        repository = InvitationRepository(session, workspace_id)
        invitation = await repository.open_for_conversation(conversation_id, "chat", utcnow())
        if invitation is None:
            return None
        survey = await feedback.get_survey(session, workspace_id, invitation.survey_id)
        return InlineSurvey(survey.id, survey_token(invitation.id), list(survey.questions))

    async def _ask_anonymous(
        self, session: AsyncSession, survey: Survey, followed: FollowedConversation | None
    ) -> SurveyInvitation | None:
        """Ask an anonymous chat visitor inline, once per conversation (no profile, so no
        throttle to keep; a marketing survey never)."""
        if (
            survey.marketing
            or followed is None
            or followed.channel != "chat"
            or DeliveryChannel.chat not in survey.channels
            or await InvitationRepository(session, survey.workspace_id).conversation_asked(
                followed.id
            )
        ):
            return None
        invitation = await self._invite(session, survey, None, DeliveryChannel.chat, followed)
        announce_inline(session, survey.workspace_id, followed.id)
        return invitation

    async def _throttled(self, session: AsyncSession, workspace_id: str, customer_id: str) -> bool:
        days = (await feedback.settings(session, workspace_id)).throttle_days
        latest = await InvitationRepository(session, workspace_id).latest_for(customer_id)
        return latest is not None and as_utc(latest) > utcnow() - timedelta(days=days)

    async def _may_use(
        self,
        session: AsyncSession,
        workspace_id: str,
        survey: Survey,
        customer_id: str,
        channel: str,
    ) -> bool:
        if not survey.marketing:
            return True
        purpose = CONSENT_FOR.get(DeliveryChannel(channel))
        if purpose is None:
            return False  # no consent purpose covers marketing in the chat widget
        return await customers.may_use(session, workspace_id, customer_id, purpose)

    async def _email_of(
        self, session: AsyncSession, workspace_id: str, customer_id: str
    ) -> str | None:
        profile = await customers.get(session, workspace_id, customer_id)
        emails = [item.value for item in profile.identifiers if item.kind == "email"]
        return emails[0] if emails else None

    async def _invite(
        self,
        session: AsyncSession,
        survey: Survey,
        customer_id: str | None,
        channel: str,
        followed: FollowedConversation | None,
    ) -> SurveyInvitation:
        invitation = SurveyInvitation(
            survey_id=survey.id,
            customer_id=customer_id,
            channel=str(channel),
            conversation_id=followed.id if followed else None,
            team_id=followed.team_id if followed else None,
            staff_id=followed.staff_id if followed else None,
            expires_at=utcnow() + timedelta(days=LINK_DAYS),
        )
        return await InvitationRepository(session, survey.workspace_id).add(invitation)

    async def _email(
        self,
        session: AsyncSession,
        invitation: SurveyInvitation,
        survey: Survey,
        address: str,
        subject: str,
    ) -> None:
        message = EmailMessage()
        message["To"] = address
        message["Subject"] = subject
        question = str(survey.questions[0].get("text", "")) if survey.questions else ""
        link = survey_link(outbound.base_url, invitation.id)
        message.set_content(TEXT.format(question=question, days=LINK_DAYS, link=link))
        await outbound.queue(session, invitation.workspace_id, message, purpose=EMAIL_PURPOSE)


delivery = DeliveryService()
