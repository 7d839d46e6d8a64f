"""Survey delivery: an email link that works once and expires, one reminder at most, the
per-customer throttle, consent for marketing surveys, and the resolved-conversation trigger."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from rapport.core.db import Database
from rapport.customers.consent import consent
from rapport.customers.enums import ConsentPurpose
from rapport.customers.schemas import ConsentChange
from rapport.feedback import answering
from rapport.feedback.answering import answer
from rapport.feedback.delivery import FollowedConversation, delivery
from rapport.feedback.errors import SurveyLinkUsed
from rapport.feedback.models import SurveyInvitation, SurveyResponse
from rapport.feedback.schemas import FeedbackSettingsUpdate
from rapport.feedback.service import feedback
from rapport.feedback.text import TextLabels, label_texts, open_comment
from rapport.support.enums import ConversationStatus
from rapport.support.lifecycle import change_status
from rapport.support.service import conversations
from rapport.worker.runner import Worker
from tests.fixtures.feedback import LINK, answer_page, csrf_of, make_customer, make_survey
from tests.fixtures.identity import make_workspace
from tests.fixtures.jobs import FrozenClock
from tests.fixtures.mail import Inbox, smtp_server
from tests.fixtures.support import SYSTEM_ACTING, make_conversation, make_team


@pytest.fixture
def inbox(app: FastAPI) -> Iterator[Inbox]:
    """A real SMTP server that outbound email goes to (the app registered the jobs)."""
    with smtp_server() as inbox:
        yield inbox


async def _send(
    database: Database, workspace_id: str, survey_id: str, customer_id: str
) -> str | None:
    async with database.session() as session:
        survey = await feedback.get_survey(session, workspace_id, survey_id)
        invitation = await delivery.send(session, workspace_id, survey, customer_id)
        return None if invitation is None else invitation.id


async def _link(database: Database, inbox: Inbox) -> str:
    await Worker(database).run_pending()
    found = LINK.search(inbox.received[-1][2].get_content())
    assert found is not None
    return found[1]


async def test_the_link_works_once(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id, "ana@example.com")
    survey = await make_survey(database, workspace.id)
    await _send(database, workspace.id, survey.id, customer_id)
    path = await _link(database, inbox)
    token = csrf_of(await client.get(path))
    first = await client.post(
        path, data={"csrf_token": token, "q_csat": "2", "f_csat": "Too slow to answer"}
    )
    again = await client.post(path, data={"csrf_token": token, "q_csat": "5"})
    shown = await client.get(path)
    assert inbox.received[-1][1] == ["ana@example.com"]
    assert (first.status_code, "Thank you!" in first.text) == (200, True)
    assert (again.status_code, shown.status_code) == (410, 410)
    assert "already answered" in shown.text
    async with database.session() as session:
        [row] = (await session.execute(select(SurveyResponse))).scalars().all()
    assert (row.score, row.kind, row.channel, row.customer_id) == (2, "csat", "email", customer_id)
    assert open_comment(row.id, row.comment) == "Too slow to answer"


async def test_a_forged_or_expired_link_is_refused(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    clock = FrozenClock()
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id)
    survey = await make_survey(database, workspace.id)
    await _send(database, workspace.id, survey.id, customer_id)
    path = await _link(database, inbox)
    forged = await client.get(path[:-3] + ("abc" if not path.endswith("abc") else "abd"))
    token = csrf_of(await client.get(path))
    clock.advance(timedelta(days=14))
    expired = await client.post(path, data={"csrf_token": token, "q_csat": "4"})
    assert (forged.status_code, expired.status_code) == (404, 410)
    assert "expired" in expired.text


async def test_a_score_out_of_range_is_refused_and_the_link_still_works(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id)
    survey = await make_survey(database, workspace.id)
    await _send(database, workspace.id, survey.id, customer_id)
    path = await _link(database, inbox)
    refused = await answer_page(client, path, {"q_csat": "9"})
    accepted = await answer_page(client, path, {"q_csat": "5"})
    assert (refused.status_code, accepted.status_code) == (422, 200)
    assert "Choose a score from 1 to 5" in refused.text


async def test_one_survey_per_customer_within_the_throttle(
    database: Database, inbox: Inbox
) -> None:
    clock = FrozenClock()
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id)
    survey = await make_survey(database, workspace.id)
    first = await _send(database, workspace.id, survey.id, customer_id)
    clock.advance(timedelta(days=29, hours=23))
    throttled = await _send(database, workspace.id, survey.id, customer_id)
    clock.advance(timedelta(hours=2))
    later = await _send(database, workspace.id, survey.id, customer_id)
    async with database.session() as session:
        body = FeedbackSettingsUpdate(throttle_days=0)
        await feedback.update_settings(session, workspace.id, body)
    unthrottled = await _send(database, workspace.id, survey.id, customer_id)
    assert [first is None, throttled is None, later is None, unthrottled is None] == [
        False,
        True,
        False,
        False,
    ]


async def test_a_marketing_survey_needs_email_consent(database: Database, inbox: Inbox) -> None:
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id)
    survey = await make_survey(database, workspace.id, marketing=True)
    without = await _send(database, workspace.id, survey.id, customer_id)
    async with database.session() as session:
        change = ConsentChange(purpose=ConsentPurpose.marketing_email, granted=True)
        await consent.record(session, workspace.id, customer_id, change, actor="test")
    with_consent = await _send(database, workspace.id, survey.id, customer_id)
    assert (without, with_consent is not None) == (None, True)


async def test_one_reminder_at_most_and_none_after_an_answer(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    clock = FrozenClock()
    workspace = await make_workspace(database)
    survey = await make_survey(database, workspace.id)
    reminded = await make_customer(database, workspace.id, "rem@example.com")
    answered = await make_customer(database, workspace.id, "ans@example.com")
    await _send(database, workspace.id, survey.id, answered)
    await answer_page(client, await _link(database, inbox), {"q_csat": "4"})
    await _send(database, workspace.id, survey.id, reminded)
    await Worker(database).run_pending()
    clock.advance(timedelta(days=3, minutes=1))
    await Worker(database).run_pending()
    clock.advance(timedelta(days=3, minutes=1))
    await Worker(database).run_pending()
    subjects = [(to, message["Subject"]) for _, to, message in inbox.received]
    assert subjects == [
        (["ans@example.com"], "How did we do?"),
        (["rem@example.com"], "How did we do?"),
        (["rem@example.com"], "A reminder: how did we do?"),
    ]


async def test_resolving_a_conversation_sends_the_survey_with_its_team_and_agent(
    database: Database, inbox: Inbox
) -> None:
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id, "bo@example.com")
    team_id = await make_team(database, workspace.id)
    await make_survey(database, workspace.id)
    conversation_id = await make_conversation(
        database, workspace.id, customer_id=customer_id, team_id=team_id
    )
    async with database.session() as session:
        conversation = await conversations.get_for_change(
            session, workspace.id, conversation_id, SYSTEM_ACTING
        )
        await change_status(session, conversation, ConversationStatus.resolved, SYSTEM_ACTING)
    await Worker(database).run_pending()
    async with database.session() as session:
        [invitation] = (await session.execute(select(SurveyInvitation))).scalars().all()
    assert [to for _, to, _ in inbox.received] == [["bo@example.com"]]
    assert (invitation.conversation_id, invitation.team_id, invitation.customer_id) == (
        conversation_id,
        team_id,
        customer_id,
    )


async def test_a_comment_is_labelled_on_a_worker_thread(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sentiment model runs on another thread: the event loop serves other requests.
    threads: list[int] = []

    def labelling(texts: list[str]) -> list[TextLabels]:
        threads.append(threading.get_ident())
        return label_texts(texts)

    monkeypatch.setattr(answering, "label_texts", labelling)
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id)
    survey = await make_survey(database, workspace.id, channels=["chat"])
    conversation_id = await make_conversation(database, workspace.id, customer_id=customer_id)
    followed = FollowedConversation(conversation_id, "chat", None, "staff-1")
    async with database.session() as session:
        loaded = await feedback.get_survey(session, workspace.id, survey.id)
        await delivery.send(session, workspace.id, loaded, customer_id, followed)
    async with database.session() as session:
        inline = await delivery.inline_survey(session, workspace.id, conversation_id)
    assert inline is not None
    form = {"q_csat": ["1"], "f_csat": ["Terrible, nobody answered and I am furious."]}
    stored = await answer(database, inline.token, form)
    assert len(threads) == 1 and threads[0] != threading.get_ident()
    assert stored.sentiment_label == "negative"


async def test_the_widget_gets_the_inline_survey_of_a_chat_and_answers_it_once(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id)
    survey = await make_survey(database, workspace.id, channels=["email", "chat"])
    conversation_id = await make_conversation(database, workspace.id, customer_id=customer_id)
    followed = FollowedConversation(conversation_id, "chat", None, "staff-1")
    async with database.session() as session:
        loaded = await feedback.get_survey(session, workspace.id, survey.id)
        # SMTP is not configured: email cannot reach the customer, the widget can.
        invitation = await delivery.send(session, workspace.id, loaded, customer_id, followed)
    async with database.session() as session:
        inline = await delivery.inline_survey(session, workspace.id, conversation_id)
    assert invitation is not None and inline is not None
    assert (invitation.channel, inline.survey_id, inline.questions[0]["id"]) == (
        "chat",
        survey.id,
        "csat",
    )
    stored = await answer(database, inline.token, {"q_csat": ["5"]})
    with pytest.raises(SurveyLinkUsed):
        await answer(database, inline.token, {"q_csat": ["4"]})
    async with database.session() as session:
        after = await delivery.inline_survey(session, workspace.id, conversation_id)
    assert (stored.score, stored.channel, stored.staff_id, after) == (5, "chat", "staff-1", None)


async def test_two_sends_at_once_to_one_customer_make_one_invitation(
    database: Database, inbox: Inbox
) -> None:
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id)
    survey = await make_survey(database, workspace.id)
    sent = await asyncio.gather(
        *(_send(database, workspace.id, survey.id, customer_id) for _ in range(2))
    )
    async with database.session() as session:
        invitations = (await session.execute(select(SurveyInvitation))).scalars().all()
    assert (sorted(item is None for item in sent), len(invitations)) == ([False, True], 1)
