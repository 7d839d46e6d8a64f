"""Survey links by SMS: after a resolved SMS conversation the survey's single-use link is
texted to the customer through the SMS channel's durable delivery jobs (a local fake of
Twilio's REST API), shows in the conversation, and answers once."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.feedback.models import SurveyInvitation, SurveyResponse
from rapport.support.models import Conversation
from rapport.worker.runner import Worker
from tests.fixtures.feedback import answer_page, make_survey
from tests.fixtures.twilio import SHOP_NUMBER, FakeTwilio, fake_twilio
from tests.support.test_sms import CUSTOMER_NUMBER, inbound, post_webhook, sms_workspace

TEXTED = re.compile(
    r"^How did we do\? Tell us in a few seconds \(the link works once, for 14 days\): "
    r"http://127\.0\.0\.1:8000(/console/surveys/[0-9a-f]{32}\.[A-Za-z0-9_-]{43})$"
)


@pytest.fixture
def twilio(app: FastAPI) -> Iterator[FakeTwilio]:
    """A local fake of Twilio's REST API that texts go to."""
    with fake_twilio() as fake:
        yield fake


async def _texting_customer(database: Database, workspace_id: str) -> str:
    signal = IdentitySignal(
        identifiers=[Observed("user_id", "u-sms"), Observed("phone", CUSTOMER_NUMBER)],
        at=utcnow(), channel="web", source="test", reason="identify",
    )  # fmt: skip
    async with database.session() as session:
        customer_id = await customers.observe(session, workspace_id, signal)
    assert customer_id is not None
    return customer_id


async def _resolved_sms_conversation(
    database: Database, client: httpx.AsyncClient, channels: list[str]
) -> tuple[str, str, dict[str, str]]:
    workspace_id, settings, key = await sms_workspace(database, client)
    customer_id = await _texting_customer(database, workspace_id)
    await make_survey(database, workspace_id, channels=channels)
    await post_webhook(client, settings["inbound_url"], inbound())
    async with database.session() as session:
        [conversation] = (await session.execute(select(Conversation))).scalars().all()
    assert conversation.customer_id == customer_id
    changed = await client.patch(
        f"/api/v1/conversations/{conversation.id}", json={"status": "resolved"}, headers=key
    )
    assert changed.status_code == 200
    return workspace_id, conversation.id, key


async def test_the_link_is_texted_into_the_sms_conversation_and_answers_once(
    database: Database, client: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    _, conversation_id, key = await _resolved_sms_conversation(database, client, ["sms"])
    await Worker(database).run_pending()
    await Worker(database).run_pending()
    [sent] = twilio.received
    found = TEXTED.match(sent["form"]["Body"])
    assert found is not None, sent["form"]["Body"]
    assert (sent["form"]["To"], sent["form"]["From"]) == (CUSTOMER_NUMBER, SHOP_NUMBER)
    thread = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=key)
    last = thread.json()["items"][-1]
    assert (last["author_type"], last["private"], last["body"]) == (
        "system", False, sent["form"]["Body"],
    )  # fmt: skip
    records = await client.get(f"/api/v1/conversations/{conversation_id}/sms", headers=key)
    outbound = [r["status"] for r in records.json() if r["direction"] == "outbound"]
    first = await answer_page(client, found[1], {"q_csat": "4"})
    again = await client.get(found[1])
    async with database.session() as session:
        [row] = (await session.execute(select(SurveyResponse))).scalars().all()
        [invitation] = (await session.execute(select(SurveyInvitation))).scalars().all()
    assert outbound == ["accepted"]
    assert (first.status_code, again.status_code) == (200, 410)
    assert (row.score, row.channel, row.conversation_id) == (4, "sms", conversation_id)
    assert invitation.channel == "sms"


async def test_a_survey_without_the_sms_channel_texts_nothing(
    database: Database, client: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    await _resolved_sms_conversation(database, client, ["chat"])
    await Worker(database).run_pending()
    await Worker(database).run_pending()
    async with database.session() as session:
        invitations = (await session.execute(select(SurveyInvitation))).scalars().all()
    assert (twilio.received, invitations) == ([], [])
