"""Webhook endpoints through the API: secrets shown once and rotated, scopes, targets
refused by default (SSRF), and nothing reachable across workspaces."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from rapport.core.db import Database
from rapport.identity.enums import Scope
from rapport.identity.models import AuditEvent
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.webhooks import Receiver, webhook_receiver

EVENTS = ["conversation.created", "message.created"]


@pytest.fixture
def receiver(app: FastAPI) -> Iterator[Receiver]:
    """A real HTTP receiver on loopback (private targets allowed while it runs)."""
    with webhook_receiver() as receiver:
        yield receiver


async def api_key(database: Database, scopes: list[Scope] | None = None) -> dict[str, str]:
    """Return an API key header of a new workspace."""
    return bearer(await make_api_key(database, await make_workspace(database), scopes))


async def test_an_endpoint_shows_its_secret_once(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key = await api_key(database)

    created = await client.post(
        "/api/v1/webhooks", json={"url": receiver.url, "event_types": EVENTS}, headers=key
    )

    assert created.status_code == 201
    secret, endpoint = created.json()["secret"], created.json()["endpoint"]
    assert secret.startswith("whsec_") and len(secret) == 6 + 32
    assert (endpoint["url"], endpoint["event_types"], endpoint["enabled"]) == (
        receiver.url,
        EVENTS,
        True,
    )
    listed = (await client.get("/api/v1/webhooks", headers=key)).json()
    assert listed == [endpoint]
    assert secret not in (await client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=key)).text


async def test_rotation_gives_a_new_secret(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key = await api_key(database)
    body = {"url": receiver.url, "event_types": EVENTS}
    created = (await client.post("/api/v1/webhooks", json=body, headers=key)).json()

    rotated = await client.post(
        f"/api/v1/webhooks/{created['endpoint']['id']}/rotate-secret", headers=key
    )

    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]
    async with database.session() as session:
        query = select(AuditEvent).where(AuditEvent.action.startswith("webhook."))
        rows = (await session.execute(query.order_by(AuditEvent.seq))).scalars().all()
    assert [(row.action, row.target_id, row.details) for row in rows] == [
        (action, created["endpoint"]["id"], {"event_types": EVENTS, "enabled": True})
        for action in ("webhook.created", "webhook.secret_rotated")
    ]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "private or loopback"),
        ("https://localhost:8443/hook", "private or loopback"),
        ("https://10.1.2.3/hook", "private or loopback"),
        ("https://[::1]/hook", "private or loopback"),
        ("https://[::ffff:192.168.0.1]/hook", "private or loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("http://shop.example.com/hook", "HTTPS only"),
        ("https://user:pw@shop.example.com/hook", "Credentials"),
        ("ftp://shop.example.com/hook", "https://host/path"),
    ],
)
async def test_unsafe_targets_are_refused_by_default(
    database: Database, client: httpx.AsyncClient, url: str, reason: str
) -> None:
    key = await api_key(database)

    answer = await client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": EVENTS}, headers=key
    )

    assert (answer.status_code, answer.json()["error"]) == (422, "WebhookTargetRefused")
    assert reason in answer.json()["detail"]


async def test_link_local_stays_refused_when_private_targets_are_allowed(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key = await api_key(database)
    body = {"url": "http://169.254.169.254/latest/meta-data", "event_types": EVENTS}

    answer = await client.post("/api/v1/webhooks", json=body, headers=key)

    assert (answer.status_code, answer.json()["error"]) == (422, "WebhookTargetRefused")


async def test_another_workspaces_endpoint_is_not_found(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner, stranger = await api_key(database), await api_key(database)
    body = {"url": receiver.url, "event_types": EVENTS}
    endpoint_id = (await client.post("/api/v1/webhooks", json=body, headers=owner)).json()[
        "endpoint"
    ]["id"]
    path = f"/api/v1/webhooks/{endpoint_id}"

    answers = [
        await client.get(path, headers=stranger),
        await client.patch(path, json={"enabled": False}, headers=stranger),
        await client.post(f"{path}/rotate-secret", headers=stranger),
        await client.get(f"{path}/deliveries", headers=stranger),
        await client.post(f"{path}/test", headers=stranger),
        await client.delete(path, headers=stranger),
    ]

    assert [(a.status_code, a.json()["error"]) for a in answers] == [
        (404, "WebhookEndpointNotFound")
    ] * 6
    assert (await client.get("/api/v1/webhooks", headers=stranger)).json() == []
    assert (await client.get(path, headers=owner)).json()["enabled"] is True


async def test_scopes_are_required(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    reader = await api_key(database, [Scope.webhooks_read])
    body = {"url": receiver.url, "event_types": EVENTS}

    anonymous = await client.get("/api/v1/webhooks")
    write = await client.post("/api/v1/webhooks", json=body, headers=reader)
    read = await client.get("/api/v1/webhooks", headers=reader)
    unscoped = await client.get(
        "/api/v1/webhooks", headers=await api_key(database, [Scope.workspace_read])
    )

    assert anonymous.status_code == 401
    assert (write.status_code, write.json()["error"]) == (403, "MissingScope")
    assert read.status_code == 200
    assert unscoped.status_code == 403


async def test_an_endpoint_is_changed_and_deleted(
    database: Database, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    key = await api_key(database)
    body = {"url": receiver.url, "event_types": EVENTS}
    endpoint_id = (await client.post("/api/v1/webhooks", json=body, headers=key)).json()[
        "endpoint"
    ]["id"]

    changed = await client.patch(
        f"/api/v1/webhooks/{endpoint_id}",
        json={"enabled": False, "event_types": ["message.created"]},
        headers=key,
    )
    deleted = await client.delete(f"/api/v1/webhooks/{endpoint_id}", headers=key)

    assert (changed.json()["enabled"], changed.json()["event_types"]) == (
        False,
        ["message.created"],
    )
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/webhooks/{endpoint_id}", headers=key)).status_code == 404
