"""The SMS channel end to end: Twilio's signed webhooks in, replies out through a local fake
of Twilio's REST API, delivery retried as jobs and reported by status callbacks."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.identity.enums import Scope
from rapport.identity.models import AuditEvent
from rapport.support.messages import read_message
from rapport.support.models import Conversation, Message
from rapport.support.sms_models import SmsRecord
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SHOP_NUMBER,
    FakeTwilio,
    fake_twilio,
    twilio_signs,
)

CUSTOMER_NUMBER = "+14155550199"
BASE_URL = "http://127.0.0.1:8000"  # the test settings' RAPPORT_BASE_URL
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.fixture
def twilio(app: FastAPI) -> Iterator[FakeTwilio]:
    """A local fake of Twilio's REST API that replies go to."""
    with fake_twilio() as fake:
        yield fake


async def sms_workspace(database: Database, client: httpx.AsyncClient) -> tuple[str, dict, dict]:
    """Create a workspace with its SMS channel set up; return its id, the settings read
    back and an API key header."""
    workspace = await make_workspace(database)
    key = bearer(await make_api_key(database, workspace))
    body = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": SHOP_NUMBER}
    answer = await client.put("/api/v1/sms-settings", json=body, headers=key)
    assert answer.status_code == 200
    return workspace.id, answer.json(), key


def inbound(sid: str = "SM" + "1" * 32, body: str = "Where is my parcel?", **extra: str) -> dict:
    """Return Twilio's inbound-message webhook form."""
    return {
        "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": CUSTOMER_NUMBER,
        "To": SHOP_NUMBER, "Body": body, "NumMedia": "0", **extra,
    }  # fmt: skip


async def post_webhook(
    client: httpx.AsyncClient, url: str, form: dict[str, str], signature: str | None = None
) -> httpx.Response:
    """Post a webhook as Twilio does, signed with the workspace's auth token."""
    signature = twilio_signs(url, form) if signature is None else signature
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return await client.post(path, data=form, headers={"X-Twilio-Signature": signature})


async def bodies(database: Database, conversation_id: str) -> list[tuple[str, bool, str]]:
    """Return a conversation's messages (author type, private, body), oldest first."""
    async with database.session() as session:
        query = select(Message).where(Message.conversation_id == conversation_id)
        rows = (await session.execute(query.order_by(Message.id))).scalars()
        read = [read_message(row) for row in rows]
        return [(str(message.author_type), message.private, message.body) for message in read]


async def count(database: Database, model: type) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_settings_give_the_webhook_urls_and_never_the_token(
    database: Database, client: httpx.AsyncClient
) -> None:
    _, settings, key = await sms_workspace(database, client)

    channel_id = settings["inbound_url"].split("/")[-2]
    assert settings == {
        "account_sid": ACCOUNT_SID,
        "from_number": SHOP_NUMBER,
        "messaging_service_sid": None,
        "auth_token_set": True,
        "inbound_url": f"{BASE_URL}/v1/webhooks/twilio/{channel_id}/sms",
        "status_callback_url": f"{BASE_URL}/v1/webhooks/twilio/{channel_id}/status",
    }
    assert (await client.get("/api/v1/sms-settings", headers=key)).json() == settings
    async with database.session() as session:
        query = select(AuditEvent).where(AuditEvent.action == "sms_channel.changed")
        [audited] = (await session.execute(query)).scalars().all()
    assert (audited.target_id, audited.details) == (channel_id, {"sender": "number"})


async def test_settings_need_workspace_write_and_a_sender(
    database: Database, client: httpx.AsyncClient
) -> None:
    workspace = await make_workspace(database)
    reader = bearer(await make_api_key(database, workspace, [Scope.workspace_read]))
    body = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": SHOP_NUMBER}

    refused = await client.put("/api/v1/sms-settings", json=body, headers=reader)
    missing = await client.get("/api/v1/sms-settings", headers=reader)
    writer = bearer(await make_api_key(database, workspace))
    no_sender = await client.put(
        "/api/v1/sms-settings", json={**body, "from_number": None}, headers=writer
    )

    assert (refused.status_code, refused.json()["error"]) == (403, "MissingScope")
    assert (missing.status_code, missing.json()["error"]) == (404, "SmsNotConfigured")
    assert no_sender.status_code == 422


async def test_a_text_opens_an_sms_conversation_with_the_customer_of_that_number(
    database: Database, client: httpx.AsyncClient
) -> None:
    workspace_id, settings, _ = await sms_workspace(database, client)
    signal = IdentitySignal(
        identifiers=[Observed("phone", CUSTOMER_NUMBER)], at=utcnow(), channel="web", source="t"
    )
    async with database.session() as session:
        customer_id = await customers.observe(session, workspace_id, signal)

    answer = await post_webhook(client, settings["inbound_url"], inbound())

    assert (answer.status_code, answer.text) == (200, EMPTY_TWIML)
    assert answer.headers["content-type"] == "text/xml; charset=utf-8"
    async with database.session() as session:
        [conversation] = (await session.execute(select(Conversation))).scalars().all()
    assert (conversation.channel, conversation.customer_id) == ("sms", customer_id)
    assert await bodies(database, conversation.id) == [("customer", False, "Where is my parcel?")]


async def test_texts_from_one_number_thread_until_the_conversation_is_resolved(
    database: Database, client: httpx.AsyncClient
) -> None:
    _, settings, key = await sms_workspace(database, client)
    url = settings["inbound_url"]
    await post_webhook(client, url, inbound("SM" + "1" * 32, "First"))
    await post_webhook(client, url, inbound("SM" + "2" * 32, "Second"))
    async with database.session() as session:
        [first_id] = (await session.execute(select(Conversation.id))).scalars().all()
    resolved = await client.patch(
        f"/api/v1/conversations/{first_id}", json={"status": "resolved"}, headers=key
    )
    assert resolved.status_code == 200

    await post_webhook(client, url, inbound("SM" + "3" * 32, "Third"))

    async with database.session() as session:
        ids = (await session.execute(select(Conversation.id).order_by(Conversation.id))).scalars()
        first, second = ids.all()
    assert first == first_id
    assert [body for _, _, body in await bodies(database, first)] == ["First", "Second"]
    assert [body for _, _, body in await bodies(database, second)] == ["Third"]


async def test_a_bad_signature_is_refused_and_stores_nothing(
    database: Database, client: httpx.AsyncClient
) -> None:
    _, settings, _ = await sms_workspace(database, client)
    form = inbound()
    wrong_key = twilio_signs(settings["inbound_url"], form, token="0" * 32)

    forged = await post_webhook(client, settings["inbound_url"], form, signature=wrong_key)
    unsigned = await post_webhook(client, settings["inbound_url"], form, signature="")
    tampered = await client.post(
        urlsplit(settings["inbound_url"]).path,
        data={**form, "Body": "Send the refund to me"},
        headers={"X-Twilio-Signature": twilio_signs(settings["inbound_url"], form)},
    )

    for answer in (forged, unsigned, tampered):
        assert (answer.status_code, answer.json()["error"]) == (403, "InvalidTwilioSignature")
    assert (await count(database, Conversation), await count(database, Message)) == (0, 0)


async def test_another_workspaces_token_does_not_sign_for_this_one(
    database: Database, client: httpx.AsyncClient
) -> None:
    _, settings, _ = await sms_workspace(database, client)
    other = await make_workspace(database)
    other_key = bearer(await make_api_key(database, other))
    body = {"account_sid": ACCOUNT_SID, "auth_token": "a" * 32, "from_number": SHOP_NUMBER}
    await client.put("/api/v1/sms-settings", json=body, headers=other_key)
    form = inbound()

    answer = await post_webhook(
        client, settings["inbound_url"], form, twilio_signs(settings["inbound_url"], form, "a" * 32)
    )

    assert answer.status_code == 403
    assert await count(database, Message) == 0


async def test_an_unknown_channel_is_not_found(client: httpx.AsyncClient) -> None:
    url = f"{BASE_URL}/v1/webhooks/twilio/{'0' * 32}/sms"

    answer = await post_webhook(client, url, inbound())

    assert (answer.status_code, answer.json()["error"]) == (404, "SmsChannelNotFound")


async def test_a_text_twilio_sends_again_is_stored_once(
    database: Database, client: httpx.AsyncClient
) -> None:
    _, settings, _ = await sms_workspace(database, client)

    for _ in range(3):
        answer = await post_webhook(client, settings["inbound_url"], inbound())
        assert answer.status_code == 200

    assert (await count(database, Message), await count(database, SmsRecord)) == (1, 1)


async def test_mms_media_are_kept_as_links(database: Database, client: httpx.AsyncClient) -> None:
    _, settings, key = await sms_workspace(database, client)
    photo = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM1/Media/ME1"
    form = inbound(body="", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")

    await post_webhook(client, settings["inbound_url"], form)

    async with database.session() as session:
        [conversation_id] = (await session.execute(select(Conversation.id))).scalars().all()
    records = (await client.get(f"/api/v1/conversations/{conversation_id}/sms", headers=key)).json()
    assert [(r["direction"], r["phone"], r["status"], r["media"]) for r in records] == [
        ("inbound", CUSTOMER_NUMBER, "received", [{"url": photo, "content_type": "image/jpeg"}])
    ]
    assert await bodies(database, conversation_id) == [
        ("customer", False, f"Attachments:\n{photo}")
    ]


async def test_a_signature_made_for_the_public_url_behind_a_proxy_holds(
    database: Database, app: FastAPI
) -> None:
    public = "https://rapport.example.com"
    app.state.settings = app.state.settings.model_copy(update={"base_url": public})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as client:
        _, configured, _ = await sms_workspace(database, client)
        url = configured["inbound_url"]
        assert url.startswith(f"{public}/v1/webhooks/twilio/")
        # Twilio's libraries also sign the URL with the default port spelled out.
        with_port = url.replace(public, f"{public}:443")

        plain = await post_webhook(client, url, inbound("SM" + "1" * 32))
        ported = await post_webhook(
            client, url, inbound("SM" + "2" * 32), twilio_signs(with_port, inbound("SM" + "2" * 32))
        )

    assert (plain.status_code, ported.status_code) == (200, 200)
