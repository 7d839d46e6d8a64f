"""Request ids, security headers and JSON access logs on every answer."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Request

from rapport.app import create_app
from rapport.config import Settings
from rapport.core.db import Database
from rapport.core.foreground import busy
from rapport.web.middleware import CONTENT_SECURITY_POLICY


@pytest.fixture
async def https_client(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"base_url": "https://rapport.example"}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://rapport.example") as client:
        yield client


async def test_safe_incoming_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd.trace_9"})
    assert response.headers["x-request-id"] == "lb-1234abcd.trace_9"


async def test_missing_request_id_is_generated(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    assert int(request_id, 16) >= 0


@pytest.mark.parametrize(
    "unsafe",
    ["short", "has space in it ok", "<script>alert(1)</script>", "x" * 65, "semi;colon12"],
)
async def test_unsafe_request_id_is_replaced(client: httpx.AsyncClient, unsafe: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": unsafe})
    assert response.headers["x-request-id"] != unsafe
    assert len(response.headers["x-request-id"]) == 32


async def test_each_request_gets_its_own_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_security_headers_on_api_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"


async def test_security_headers_on_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_no_hsts_over_plain_http(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert "strict-transport-security" not in response.headers


async def test_hsts_when_base_url_is_https(https_client: httpx.AsyncClient) -> None:
    response = await https_client.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


def _capture_rapport_logs() -> io.StringIO:
    buffer = io.StringIO()
    handler = logging.getLogger("rapport").handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    return buffer


async def test_access_log_is_json_with_request_id_and_no_query_string(
    settings: Settings, database: Database
) -> None:
    app = create_app(settings.model_copy(update={"log_level": "INFO"}), database)
    buffer = _capture_rapport_logs()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await client.get(
            "/healthz?email=someone%40example.com&token=s3cr3t",
            headers={"X-Request-ID": "trace-0123456789"},
        )
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "rapport.http"]
    assert len(access) == 1
    assert access[0]["message"] == "request"
    assert access[0]["request_id"] == "trace-0123456789"
    assert access[0]["method"] == "GET"
    assert access[0]["path"] == "/healthz"
    assert access[0]["status"] == 200
    assert "s3cr3t" not in buffer.getvalue()
    assert "example.com" not in buffer.getvalue()


async def test_access_log_masks_credentials_carried_in_the_path(
    settings: Settings, database: Database
) -> None:
    app = create_app(settings.model_copy(update={"log_level": "INFO"}), database)
    buffer = _capture_rapport_logs()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await client.get("/console/invitations/inv-token-s3cr3t")
        await client.post("/v1/webhooks/shopify/wk_s3cr3t/orders-create", content=b"{}")
    paths = [json.loads(line).get("path") for line in buffer.getvalue().splitlines()]
    assert "/console/invitations/***" in paths
    assert "/v1/webhooks/shopify/***/orders-create" in paths
    assert "s3cr3t" not in buffer.getvalue()


async def test_unhandled_error_log_has_request_id_and_no_message(
    settings: Settings, database: Database
) -> None:
    app = create_app(settings.model_copy(update={"log_level": "INFO"}), database)

    @app.get("/test-only/crash")
    async def _crash() -> None:
        raise RuntimeError("card 4111111111111111")

    buffer = _capture_rapport_logs()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await client.get("/test-only/crash", headers={"X-Request-ID": "trace-crash-0001"})
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    errors = [line for line in lines if line["logger"] == "rapport.errors"]
    assert [(e["request_id"], e["exception"]) for e in errors] == [
        ("trace-crash-0001", "RuntimeError")
    ]
    assert [line["status"] for line in lines if line["logger"] == "rapport.http"] == [500]
    assert "4111111111111111" not in buffer.getvalue()


async def test_a_request_is_live_work_once_its_body_is_in(
    settings: Settings, database: Database
) -> None:
    """Background work on the server's loop waits for requests (core.foreground), but not for
    a body a client is still sending."""
    app = create_app(settings, database)
    seen: list[bool] = []

    async def probe(request: Request) -> dict[str, bool]:
        await request.body()
        seen.append(busy())
        return {}

    app.add_api_route("/probe", probe, methods=["POST"])
    arrived, rest = asyncio.Event(), asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b"{"
        arrived.set()
        await rest.wait()
        yield b"}"

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        sending = asyncio.create_task(client.post("/probe", content=slow_body()))
        await arrived.wait()
        for _ in range(20):
            await asyncio.sleep(0)
        assert not busy()
        rest.set()
        response = await sending
    assert response.status_code == 200, response.text
    assert seen == [True]
    assert not busy()
