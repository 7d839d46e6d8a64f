"""Agents' replies on SMS conversations: sent through a local fake of Twilio's REST API as
durable jobs, retried, marked failed where agents see it, and updated by status callbacks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from rapport.core.clock import set_clock, utcnow
from rapport.core.db import Database
from rapport.support.models import Conversation
from rapport.worker.runner import Worker
from tests.fixtures.twilio import ACCOUNT_SID, AUTH_TOKEN, SHOP_NUMBER, FakeTwilio, fake_twilio
from tests.support.test_sms import (
    CUSTOMER_NUMBER,
    EMPTY_TWIML,
    bodies,
    inbound,
    post_webhook,
    sms_workspace,
)

REPLY = "It ships today. Card 4111 1111 1111 1111 was refunded."
MASKED = "It ships today. Card **** **** **** 1111 was refunded."


@pytest.fixture
def twilio(app: FastAPI) -> Iterator[FakeTwilio]:
    """A local fake of Twilio's REST API that replies go to."""
    with fake_twilio() as fake:
        yield fake


async def reply_to_a_text(database: Database, client: httpx.AsyncClient) -> tuple[str, dict, dict]:
    """Receive a text and answer it; return the conversation id, settings and key."""
    _, settings, key = await sms_workspace(database, client)
    await post_webhook(client, settings["inbound_url"], inbound())
    async with database.session() as session:
        [conversation_id] = (await session.execute(select(Conversation.id))).scalars().all()
    posted = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"kind": "reply", "body": REPLY},
        headers=key,
    )
    assert posted.status_code == 201
    return conversation_id, settings, key


async def sms_records(client: httpx.AsyncClient, conversation_id: str, key: dict) -> list:
    """Return the outbound records of a conversation: (status, attempts, last error)."""
    records = (await client.get(f"/api/v1/conversations/{conversation_id}/sms", headers=key)).json()
    return [
        (r["status"], r["attempts"], r["last_error"])
        for r in records
        if r["direction"] == "outbound"
    ]


async def run_jobs_for(database: Database, minutes: int) -> None:
    """Run every job that comes due over the next minutes (retries wait in between)."""
    start = utcnow()
    for minute in range(0, minutes + 1, 1):
        set_clock(lambda minute=minute: start + timedelta(minutes=minute))
        await Worker(database).run_pending()


async def test_a_reply_goes_to_twilio_in_its_wire_format(
    database: Database, client: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    conversation_id, settings, key = await reply_to_a_text(database, client)

    await Worker(database).run_pending()

    [sent] = twilio.received
    record_path = sent["form"]["StatusCallback"]
    assert sent["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent["auth"] == ("Basic", ACCOUNT_SID, AUTH_TOKEN)
    assert sent["content_type"] == "application/x-www-form-urlencoded"
    assert sent["form"] == {
        "To": CUSTOMER_NUMBER, "From": SHOP_NUMBER, "Body": MASKED, "StatusCallback": record_path,
    }  # fmt: skip
    assert record_path.startswith(settings["status_callback_url"] + "?record=")
    [record] = [
        r
        for r in (
            await client.get(f"/api/v1/conversations/{conversation_id}/sms", headers=key)
        ).json()
        if r["direction"] == "outbound"
    ]
    assert (record["status"], record["attempts"], record["message_sid"][:2]) == (
        "accepted",
        1,
        "SM",
    )


async def test_a_status_callback_updates_the_reply_and_never_moves_it_back(
    database: Database, client: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    conversation_id, _, key = await reply_to_a_text(database, client)
    await Worker(database).run_pending()
    [sent] = twilio.received
    callback = sent["form"]["StatusCallback"]
    sid = (await client.get(f"/api/v1/conversations/{conversation_id}/sms", headers=key)).json()[1][
        "message_sid"
    ]

    def status(value: str) -> dict[str, str]:
        return {"MessageSid": sid, "MessageStatus": value, "AccountSid": ACCOUNT_SID}

    delivered = await post_webhook(client, callback, status("delivered"))
    late = await post_webhook(client, callback, status("sent"))

    assert (delivered.status_code, delivered.text, late.status_code) == (200, EMPTY_TWIML, 200)
    assert await sms_records(client, conversation_id, key) == [("delivered", 1, None)]


async def test_a_failed_delivery_callback_names_twilios_error(
    database: Database, client: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    conversation_id, _, key = await reply_to_a_text(database, client)
    await Worker(database).run_pending()
    callback = twilio.received[0]["form"]["StatusCallback"]
    form = {"MessageSid": "SMx", "MessageStatus": "undelivered", "ErrorCode": "30003"}

    forged = await post_webhook(client, callback, form, signature="bad")
    answer = await post_webhook(client, callback, form)

    assert (forged.status_code, answer.status_code) == (403, 200)
    assert await sms_records(client, conversation_id, key) == [
        ("undelivered", 1, "Twilio undelivered error 30003")
    ]


async def test_twilio_outages_are_retried_until_it_takes_the_reply(
    database: Database, client: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    conversation_id, _, key = await reply_to_a_text(database, client)
    twilio.failures = [(500, 20500, "Internal Server Error"), (429, 20429, "Too Many Requests")]

    await run_jobs_for(database, minutes=5)

    assert len(twilio.received) == 3
    assert [(s, a) for s, a, _ in await sms_records(client, conversation_id, key)] == [
        ("accepted", 3)
    ]


async def test_a_reply_twilio_never_takes_is_marked_failed_for_the_agents(
    database: Database, client: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    conversation_id, _, key = await reply_to_a_text(database, client)
    twilio.failures = [(503, 20503, "Service Unavailable")] * 10

    await run_jobs_for(database, minutes=30)

    assert len(twilio.received) == 5
    assert await sms_records(client, conversation_id, key) == [
        ("failed", 5, "Twilio 503 error 20503")
    ]
    assert (await bodies(database, conversation_id))[-1] == (
        "system",
        True,
        "SMS reply not delivered after 5 attempts (Twilio 503 error 20503).",
    )


async def test_a_refused_reply_is_not_retried(
    database: Database, client: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    conversation_id, _, key = await reply_to_a_text(database, client)
    twilio.failures = [(400, 21211, "The 'To' number is not a valid phone number.")]

    await Worker(database).run_pending()

    assert len(twilio.received) == 1
    assert await sms_records(client, conversation_id, key) == [
        ("failed", 1, "Twilio 400 error 21211")
    ]
    assert (await bodies(database, conversation_id))[-1][2] == (
        "SMS reply not delivered after 1 attempt (Twilio 400 error 21211)."
    )


async def test_the_reply_is_stored_although_twilio_is_down(
    database: Database, client: httpx.AsyncClient
) -> None:
    conversation_id, _, key = await reply_to_a_text(database, client)

    assert await sms_records(client, conversation_id, key) == [("queued", 0, None)]
    assert (await bodies(database, conversation_id))[-1] == ("agent", False, MASKED)
