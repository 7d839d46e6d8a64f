"""The chat widget over HTTP: visitors, verified customers across devices, ownership,
resends, catch-up, floods, the script and the demo page."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx

from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.models import Source, Workspace
from rapport.identity.verification import identity_verification, user_hash
from tests.fixtures.customers import make_customer
from tests.fixtures.identity import bearer, make_api_key, make_source, make_workspace

SCRIPT = Path(__file__).resolve().parents[2] / "src/rapport/web/static/widget.js"


async def _secret(database: Database, source: Source) -> str:
    async with database.session() as session:
        return await identity_verification.secret(
            session, workspace_id=source.workspace_id, source_id=source.id, actor=SYSTEM
        )


async def _start(client: httpx.AsyncClient, source: Source, **fields: str) -> dict[str, object]:
    response = await client.post("/widget/sessions", json={"write_key": source.write_key, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _visitor(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _send(
    client: httpx.AsyncClient, token: object, client_id: str, body: str, **extra: str
) -> httpx.Response:
    payload = {"client_id": client_id, "body": body, **extra}
    return await client.post("/widget/messages", json=payload, headers=_visitor(token))


async def _bodies(client: httpx.AsyncClient, token: object, after: int = 0) -> list[str]:
    response = await client.get(f"/widget/messages?after={after}", headers=_visitor(token))
    assert response.status_code == 200, response.text
    return [item["body"] for item in response.json()["items"]]


async def _setup(database: Database) -> tuple[Workspace, Source]:
    workspace = await make_workspace(database)
    return workspace, await make_source(database, workspace)


async def test_an_anonymous_visitor_opens_a_chat_conversation(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, source = await _setup(database)
    started = await _start(client, source)
    assert (started["conversation_id"], started["last_seq"], started["verified"]) == (
        None,
        0,
        False,
    )
    assert started["agents_online"] is False
    sent = await _send(client, started["visitor_token"], "client-0001", "Do you ship to Norway?")
    assert sent.status_code == 201
    message = sent.json()
    assert (message["seq"], message["author_type"], message["client_id"]) == (
        1, "customer", "client-0001",
    )  # fmt: skip
    key = await make_api_key(database, workspace)
    read = await client.get(
        f"/api/v1/conversations/{message['conversation_id']}", headers=bearer(key)
    )
    assert (read.json()["channel"], read.json()["status"]) == ("chat", "open")


async def test_an_agent_reply_is_caught_up_after_the_last_seq(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, source = await _setup(database)
    token = (await _start(client, source))["visitor_token"]
    conversation_id = (await _send(client, token, "client-0001", "Hello")).json()["conversation_id"]
    key = await make_api_key(database, workspace)
    path = f"/api/v1/conversations/{conversation_id}/messages"
    await client.post(path, json={"kind": "note", "body": "internal"}, headers=bearer(key))
    await client.post(path, json={"kind": "reply", "body": "Hi there"}, headers=bearer(key))
    assert await _bodies(client, token) == ["Hello", "Hi there"]
    assert await _bodies(client, token, after=1) == ["Hi there"]
    assert await _bodies(client, token, after=3) == []


async def test_a_resend_returns_the_stored_message_once(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, source = await _setup(database)
    token = (await _start(client, source))["visitor_token"]
    first = await _send(client, token, "client-0001", "Where is my parcel?")
    again = await _send(client, token, "client-0001", "Where is my parcel?")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert await _bodies(client, token) == ["Where is my parcel?"]


async def test_a_signed_in_customer_finds_their_conversation_on_another_device(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, source = await _setup(database)
    signature = user_hash(await _secret(database, source), "customer-42")
    phone = await _start(client, source, user_id="customer-42", user_hash=signature)
    sent = await _send(client, phone["visitor_token"], "client-0001", "Hello from my phone")
    laptop = await _start(client, source, user_id="customer-42", user_hash=signature)
    assert laptop["visitor_token"] != phone["visitor_token"]
    assert (laptop["conversation_id"], laptop["verified"]) == (sent.json()["conversation_id"], True)
    assert await _bodies(client, laptop["visitor_token"]) == ["Hello from my phone"]


async def test_a_signed_in_customers_chat_is_their_profiles(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, source = await _setup(database)
    customer_id = await make_customer(database, workspace.id, user_id="customer-42")
    signature = user_hash(await _secret(database, source), "customer-42")
    signed = await _start(client, source, user_id="customer-42", user_hash=signature)
    sent = await _send(client, signed["visitor_token"], "client-0001", "Where is my order?")
    key = await make_api_key(database, workspace)
    path = f"/api/v1/conversations/{sent.json()['conversation_id']}"
    assert (await client.get(path, headers=bearer(key))).json()["customer_id"] == customer_id
    # The same browser signed out: its next chat is nobody's profile.
    await client.post(f"{path}/messages", json={"kind": "reply", "body": "Hi"}, headers=bearer(key))
    await client.patch(path, json={"status": "resolved"}, headers=bearer(key))
    unsigned = await _start(client, source, visitor_token=str(signed["visitor_token"]))
    other = await _send(client, unsigned["visitor_token"], "client-0002", "Hello again")
    other_path = f"/api/v1/conversations/{other.json()['conversation_id']}"
    assert other_path != path
    assert (await client.get(other_path, headers=bearer(key))).json()["customer_id"] is None


async def test_a_forged_user_hash_is_refused(client: httpx.AsyncClient, database: Database) -> None:
    _, source = await _setup(database)
    await _secret(database, source)
    response = await client.post(
        "/widget/sessions",
        json={"write_key": source.write_key, "user_id": "customer-42", "user_hash": "ab" * 32},
    )
    assert response.status_code == 403
    assert response.json()["error"] == "IdentityNotVerified"


async def test_the_same_device_unsigned_no_longer_sees_the_customers_conversation(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, source = await _setup(database)
    signature = user_hash(await _secret(database, source), "customer-42")
    signed = await _start(client, source, user_id="customer-42", user_hash=signature)
    await _send(client, signed["visitor_token"], "client-0001", "My address is ...")
    unsigned = await _start(client, source, visitor_token=str(signed["visitor_token"]))
    assert unsigned["conversation_id"] is None
    assert await _bodies(client, signed["visitor_token"]) == []


async def test_another_visitors_conversation_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, source = await _setup(database)
    mine = (await _start(client, source))["visitor_token"]
    theirs = (await _start(client, source))["visitor_token"]
    conversation_id = (await _send(client, theirs, "client-0001", "Private")).json()[
        "conversation_id"
    ]
    written = await _send(client, mine, "client-0002", "Hi", conversation_id=conversation_id)
    listed = await client.get(
        f"/widget/messages?conversation_id={conversation_id}", headers=_visitor(mine)
    )
    assert (written.status_code, listed.status_code) == (404, 404)
    assert written.json()["error"] == "ConversationNotFound"
    assert await _bodies(client, theirs) == ["Private"]


async def test_another_workspaces_visitor_token_is_a_new_visitor(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, source = await _setup(database)
    _, other_source = await _setup(database)
    token = (await _start(client, source))["visitor_token"]
    await _send(client, token, "client-0001", "Mine")
    elsewhere = await _start(client, other_source, visitor_token=str(token))
    assert elsewhere["visitor_token"] != token
    assert elsewhere["conversation_id"] is None


async def test_unknown_keys_and_tokens_are_refused(client: httpx.AsyncClient) -> None:
    key = await client.post("/widget/sessions", json={"write_key": "wk_unknown"})
    token = await client.get("/widget/messages", headers=_visitor("vt_" + "x" * 30))
    missing = await client.get("/widget/messages")
    assert [key.status_code, token.status_code, missing.status_code] == [401, 401, 401]
    assert [key.json()["error"], token.json()["error"]] == [
        "WidgetKeyInvalid", "VisitorNotRecognised",
    ]  # fmt: skip


async def test_a_blank_or_oversized_message_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, source = await _setup(database)
    token = (await _start(client, source))["visitor_token"]
    blank = await _send(client, token, "client-0001", "   ")
    huge = await _send(client, token, "client-0002", "x" * 10_001)
    assert (blank.status_code, huge.status_code) == (422, 422)
    assert await _bodies(client, token) == []


async def test_a_flood_from_one_visitor_is_answered_429(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, source = await _setup(database)
    token = (await _start(client, source))["visitor_token"]
    statuses = [
        (await _send(client, token, f"client-{number:04}", f"spam {number}")).status_code
        for number in range(11)
    ]
    assert statuses == [201] * 10 + [429]
    last = await _send(client, token, "client-0099", "more")
    assert last.json()["error"] == "WidgetThrottled"
    assert int(last.headers["retry-after"]) >= 1
    assert len(await _bodies(client, token)) == 10


async def test_an_email_left_offline_is_a_private_note(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, source = await _setup(database)
    token = (await _start(client, source))["visitor_token"]
    conversation_id = (await _send(client, token, "client-0001", "Hi")).json()["conversation_id"]
    saved = await client.post(
        "/widget/email", json={"email": "ana@example.com"}, headers=_visitor(token)
    )
    assert saved.status_code == 204
    key = await make_api_key(database, workspace)
    listed = await client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=bearer(key)
    )
    note = listed.json()["items"][-1]
    assert (note["author_type"], note["private"]) == ("system", True)
    assert note["body"] == (
        "No agent was online; the customer left ana@example.com. Agents' replies they have not "
        "read in the chat 2 minutes later are emailed there."
    )
    assert await _bodies(client, token) == ["Hi"]


async def test_widget_answers_carry_cors_headers(
    client: httpx.AsyncClient, database: Database
) -> None:
    preflight = await client.options(
        "/widget/messages",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    refused = await client.get("/widget/messages", headers={"Origin": "https://shop.example"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-headers"] == "authorization, content-type"
    assert refused.headers["access-control-allow-origin"] == "*"


async def test_the_script_is_served_cached_and_small(client: httpx.AsyncClient) -> None:
    response = await client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.content == SCRIPT.read_bytes()
    assert len(gzip.compress(response.content, 9)) < 30 * 1024
