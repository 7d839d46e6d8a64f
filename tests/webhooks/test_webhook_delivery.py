"""Webhook delivery end to end: support events reach a real HTTP receiver signed as
Standard Webhooks says (checked by an independent implementation), retried on failure as
durable jobs, never to a refused address, never following a redirect."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from rapport.core.db import Database
from rapport.core.outbox import publish
from rapport.webhooks.delivery import MAX_ATTEMPTS, webhook_sender
from rapport.webhooks.service import webhooks
from rapport.webhooks.tasks import FAN_OUT
from rapport.worker.runner import Worker
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.jobs import all_jobs
from tests.fixtures.statements import statements_recorded
from tests.fixtures.webhooks import Receiver, run_until_idle, verify, webhook_receiver

SECRET_TEXT = "My card is 4111 1111 1111 1111 and I live at 1 Main St"


@pytest.fixture
def receiver(app: FastAPI) -> Iterator[Receiver]:
    """A real HTTP receiver on loopback (private targets allowed while it runs)."""
    with webhook_receiver() as receiver:
        yield receiver


async def subscribed(
    database: Database, client: httpx.AsyncClient, url: str, events: list[str]
) -> tuple[dict[str, str], str, str]:
    """Create a workspace with one endpoint; return the key, the endpoint id, its secret."""
    key = bearer(await make_api_key(database, await make_workspace(database)))
    created = await client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": events}, headers=key
    )
    assert created.status_code == 201
    return key, created.json()["endpoint"]["id"], created.json()["secret"]


async def open_conversation(client: httpx.AsyncClient, key: dict[str, str]) -> str:
    body = {"channel": "api", "message": {"kind": "customer", "body": SECRET_TEXT}}
    answer = await client.post("/api/v1/conversations", json=body, headers=key)
    assert answer.status_code == 201
    return str(answer.json()["id"])


async def deliveries(client: httpx.AsyncClient, key: dict[str, str], endpoint_id: str) -> list:
    answer = await client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=key)
    assert answer.status_code == 200
    return list(answer.json())


async def test_subscribed_events_arrive_signed_with_ids_only(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key, _, secret = await subscribed(database, client, receiver.url, ["message.created"])
    conversation_id = await open_conversation(client, key)

    await Worker(database).run_pending()

    [request] = receiver.received
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/rapport"
    assert verify(secret, headers, body)
    assert not verify("whsec_" + "A" * 32, headers, body)
    payload = json.loads(body)
    assert payload["type"] == "message.created"
    assert payload["data"]["conversation_id"] == conversation_id
    assert payload["data"]["author_type"] == "customer"
    # The whole card number: a timestamp's microseconds may hold "4111" by chance.
    assert "4111 1111 1111 1111" not in body.decode() and "Main St" not in body.decode()
    assert headers["content-type"] == "application/json"


async def test_only_the_subscribed_events_are_sent(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key, _, _ = await subscribed(
        database, client, receiver.url, ["conversation.created", "conversation.status_changed"]
    )
    conversation_id = await open_conversation(client, key)
    await client.patch(
        f"/api/v1/conversations/{conversation_id}", json={"status": "resolved"}, headers=key
    )

    await Worker(database).run_pending()

    types = sorted(json.loads(r["body"])["type"] for r in receiver.received)
    assert types == ["conversation.created", "conversation.status_changed"]


async def test_a_priority_change_is_sent_with_the_new_priority(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key, _, secret = await subscribed(
        database, client, receiver.url, ["conversation.priority_changed"]
    )
    conversation_id = await open_conversation(client, key)
    path = f"/api/v1/conversations/{conversation_id}"
    for priority in ("urgent", "urgent", "low"):  # the second changes nothing: no event
        answer = await client.patch(path, json={"priority": priority}, headers=key)
        assert answer.status_code == 200, answer.text

    await Worker(database).run_pending()

    sent = [json.loads(request["body"]) for request in receiver.received]
    assert all(verify(secret, r["headers"], r["body"]) for r in receiver.received)
    assert sorted(
        (
            body["type"],
            body["data"]["conversation_id"],
            body["data"]["previous"],
            body["data"]["priority"],
        )
        for body in sent
    ) == [
        ("conversation.priority_changed", conversation_id, "normal", "urgent"),
        ("conversation.priority_changed", conversation_id, "urgent", "low"),
    ]


async def test_a_failing_receiver_is_retried_with_the_same_id(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key, endpoint_id, secret = await subscribed(database, client, receiver.url, ["message.created"])
    receiver.answers = [(500, b"oops", {}), (503, b"busy", {})]
    await open_conversation(client, key)

    await run_until_idle(database)

    assert [verify(secret, r["headers"], r["body"]) for r in receiver.received] == [True] * 3
    assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1
    [delivery] = await deliveries(client, key, endpoint_id)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered", 3, 204,
    )  # fmt: skip
    log = [
        (a["number"], a["status_code"], a["error"], a["response"]) for a in delivery["attempt_log"]
    ]
    assert log == [(1, 500, "HTTP 500", "oops"), (2, 503, "HTTP 503", "busy"), (3, 204, None, "")]
    assert delivery["id"] == receiver.received[0]["headers"]["webhook-id"]


async def test_delivery_gives_up_after_the_last_attempt(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key, endpoint_id, _ = await subscribed(database, client, receiver.url, ["message.created"])
    receiver.answers = [(500, b"x" * 5000, {})] * 20
    await open_conversation(client, key)

    await run_until_idle(database)

    assert len(receiver.received) == MAX_ATTEMPTS == 8
    [delivery] = await deliveries(client, key, endpoint_id)
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == (
        "failed", 8, "HTTP 500",
    )  # fmt: skip
    assert {len(a["response"]) for a in delivery["attempt_log"]} == {1024}


async def test_a_redirect_is_not_followed(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key, endpoint_id, _ = await subscribed(database, client, receiver.url, ["message.created"])
    receiver.answers = [(307, b"", {"Location": "http://169.254.169.254/latest/meta-data"})]
    await open_conversation(client, key)

    await Worker(database).run_pending()

    assert [r["path"] for r in receiver.received] == ["/hooks/rapport"]
    [delivery] = await deliveries(client, key, endpoint_id)
    assert (delivery["status"], delivery["last_status_code"]) == ("pending", 307)


async def test_a_private_address_is_refused_at_delivery_and_nothing_is_sent(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key, endpoint_id, _ = await subscribed(database, client, receiver.url, ["message.created"])
    await open_conversation(client, key)
    webhook_sender.configure(allow_private=False)

    await Worker(database).run_pending()

    assert receiver.received == []
    [delivery] = await deliveries(client, key, endpoint_id)
    assert delivery["status"] == "failed"
    assert delivery["last_error"].startswith("target refused: Webhooks are sent over HTTPS only")


async def test_a_test_event_reaches_the_endpoint(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key, endpoint_id, secret = await subscribed(database, client, receiver.url, ["message.created"])

    queued = await client.post(f"/api/v1/webhooks/{endpoint_id}/test", headers=key)
    await Worker(database).run_pending()

    assert (queued.status_code, queued.json()["status"]) == (202, "pending")
    [request] = receiver.received
    assert verify(secret, request["headers"], request["body"])
    assert json.loads(request["body"])["type"] == "webhook.test"


async def test_after_rotation_only_the_new_secret_verifies(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key, endpoint_id, old = await subscribed(database, client, receiver.url, ["message.created"])
    rotated = await client.post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret", headers=key)
    new = rotated.json()["secret"]

    await client.post(f"/api/v1/webhooks/{endpoint_id}/test", headers=key)
    await Worker(database).run_pending()

    [request] = receiver.received
    headers, body = request["headers"], request["body"]
    assert (verify(new, headers, body), verify(old, headers, body)) == (True, False)


async def test_a_disabled_endpoint_gets_nothing(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key, endpoint_id, _ = await subscribed(database, client, receiver.url, ["message.created"])
    await client.patch(f"/api/v1/webhooks/{endpoint_id}", json={"enabled": False}, headers=key)
    await open_conversation(client, key)

    await Worker(database).run_pending()

    assert receiver.received == []
    assert await deliveries(client, key, endpoint_id) == []


async def test_a_workspace_without_an_endpoint_on_queues_no_fan_out(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key = bearer(await make_api_key(database, await make_workspace(database)))
    await open_conversation(client, key)
    assert FAN_OUT not in {job.name for job in await all_jobs(database)}
    created = await client.post(
        "/api/v1/webhooks", json={"url": receiver.url, "event_types": ["message.created"]},
        headers=key,
    )  # fmt: skip
    endpoint_id = created.json()["endpoint"]["id"]
    await client.patch(f"/api/v1/webhooks/{endpoint_id}", json={"enabled": False}, headers=key)
    await open_conversation(client, key)
    assert FAN_OUT not in {job.name for job in await all_jobs(database)}
    await client.patch(f"/api/v1/webhooks/{endpoint_id}", json={"enabled": True}, headers=key)
    await open_conversation(client, key)  # switched on: this one's events go out

    await Worker(database).run_pending()

    assert [json.loads(request["body"])["type"] for request in receiver.received] == [
        "message.created"
    ]


async def test_a_workspace_without_endpoints_fans_out_in_one_read(database: Database) -> None:
    """A fan-out queued while an endpoint was on that finds none on when it runs reads the
    endpoints and stops, without reading the event."""
    workspace = await make_workspace(database)
    async with database.session() as session:
        event = publish(session, "message.created", workspace_id=workspace.id, message_id="m")

    with statements_recorded(database, _queries) as sent:
        async with database.session() as session:
            queued = await webhooks.fan_out(session, workspace.id, event.id, {"message_id": "m"})

    assert queued == 0
    assert len(sent) == 1 and "webhook_endpoints" in sent[0], sent


def _queries(_connection: object, statement: str) -> str | None:
    """A statement sent, transaction control left out (SQLite's driver sends BEGIN too)."""
    return None if statement.split()[0].upper() in {"BEGIN", "COMMIT", "ROLLBACK"} else statement
