"""Bodies are read before any route runs: capped, on a deadline, credentials first."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi import FastAPI

from rapport.web import bodies
from tests.fixtures.identity import bearer, make_api_key, make_workspace

MB = 1024 * 1024


class Upload:
    """An ASGI client sending an endless body in 1 MB chunks, counting what was read."""

    def __init__(self, *, stall: bool = False) -> None:
        self.chunks_read = 0
        self.stall = stall
        self.messages: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.stall:
            await asyncio.Event().wait()
        self.chunks_read += 1
        return {"type": "http.request", "body": b"x" * MB, "more_body": True}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def body(self) -> dict[str, Any]:
        raw = b"".join(m.get("body", b"") for m in self.messages[1:])
        return dict(json.loads(raw))


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _post(app: FastAPI, path: str, upload: Upload, *headers: tuple[bytes, bytes]) -> None:
    await app(
        _scope(path, [(b"transfer-encoding", b"chunked"), *headers]), upload.receive, upload.send
    )


async def test_an_api_body_without_credentials_is_refused_unread(app: FastAPI) -> None:
    upload = Upload()
    await _post(app, "/api/v1/sources", upload)
    assert (upload.status, upload.body["error"], upload.chunks_read) == (401, "NotSignedIn", 0)


async def test_an_api_body_is_refused_as_soon_as_it_passes_its_cap(app: FastAPI) -> None:
    workspace = await make_workspace(app.state.database)
    key = await make_api_key(app.state.database, workspace)
    upload = Upload()
    authorization = bearer(key)["Authorization"].encode()
    await _post(app, "/api/v1/sources", upload, (b"authorization", authorization))
    assert (upload.status, upload.body["error"], upload.chunks_read) == (413, "PayloadTooLarge", 2)


async def test_a_declared_length_over_the_cap_is_refused_unread(app: FastAPI) -> None:
    upload = Upload()
    scope = _scope("/console/sign-in", [(b"content-length", str(300 * MB).encode())])
    await app(scope, upload.receive, upload.send)
    assert (upload.status, upload.chunks_read) == (413, 0)


async def test_ingestion_keeps_segments_answer_for_oversized_batches(app: FastAPI) -> None:
    upload = Upload()
    await _post(app, "/v1/batch", upload, (b"authorization", b"Basic d2tfeDo="))
    assert (upload.status, upload.body["error"]) == (400, "BatchTooLarge")


async def test_a_body_that_never_arrives_times_out(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bodies, "BODY_SECONDS", 0.05)
    upload = Upload(stall=True)
    await _post(app, "/v1/track", upload)
    assert (upload.status, upload.body["error"]) == (408, "RequestTimeout")


def test_every_route_group_has_a_cap() -> None:
    paths = ("/v1/webhooks/shopify/k/orders-create", "/v1/track", "/api/v1/b", "/console/a", "/x")
    assert [bodies.rule_for(path).limit // 1024 for path in paths] == [1024, 501, 1024, 256, 64]
