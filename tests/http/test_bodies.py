"""Bodies are read before any route runs: capped, on a deadline, credentials first."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi import FastAPI

from rapport.web import bodies
from rapport.web.bodies import BodyMiddleware
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


class Held:
    """A route that holds the body it got until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await self.release.wait()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


class Sized(Upload):
    """A client sending `chunks` chunks of 1 MB, then (optionally) stalling."""

    def __init__(self, chunks: int, *, then_stall: bool = False) -> None:
        super().__init__()
        self.chunks, self.then_stall = chunks, then_stall

    async def receive(self) -> dict[str, Any]:
        if self.chunks_read >= self.chunks and self.then_stall:
            await asyncio.Event().wait()
        self.chunks_read += 1
        more = self.chunks_read < self.chunks or self.then_stall
        return {"type": "http.request", "body": b"x" * MB, "more_body": more}


async def _through(middleware: BodyMiddleware, upload: Upload, address: str = "10.0.0.1") -> None:
    scope = _scope("/api/v1/x", [(b"transfer-encoding", b"chunked"), (b"authorization", b"k")])
    await middleware({**scope, "client": (address, 1)}, upload.receive, upload.send)


async def test_bodies_held_at_once_stay_within_the_budget() -> None:
    route = Held()
    middleware = BodyMiddleware(route, budget_bytes=int(1.5 * MB))  # type: ignore[arg-type]
    first = asyncio.create_task(_through(middleware, Sized(1)))
    await asyncio.sleep(0.01)
    second = Sized(1)
    await _through(middleware, second, "10.0.0.2")
    route.release.set()
    await first
    third = Sized(1)
    await _through(middleware, third, "10.0.0.3")
    assert (second.status, second.body["error"], third.status) == (503, "ServerBusy", 204)
    assert middleware.budget.held == 0


async def test_one_address_sends_only_so_many_bodies_at_once() -> None:
    middleware = BodyMiddleware(Held(), reads_per_address=1)  # type: ignore[arg-type]
    slow = asyncio.create_task(_through(middleware, Sized(1, then_stall=True)))
    await asyncio.sleep(0.01)
    second, elsewhere = Sized(1), Sized(1, then_stall=True)
    await _through(middleware, second)
    other = asyncio.create_task(_through(middleware, elsewhere, "10.9.9.9"))
    await asyncio.sleep(0.01)
    assert (second.status, second.body["error"], elsewhere.messages) == (429, "TooManyRequests", [])
    slow.cancel()
    other.cancel()


async def test_a_client_that_hangs_up_is_logged_as_499_not_500(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    calls = iter([{"type": "http.request", "body": b"{", "more_body": True}])

    async def receive() -> dict[str, Any]:
        return next(calls, {"type": "http.disconnect"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level("INFO", logger="rapport.http"):
        await app(_scope("/v1/track", [(b"transfer-encoding", b"chunked")]), receive, send)
    [line] = [record for record in caplog.records if record.name == "rapport.http"]
    assert (sent, line.status) == ([], 499)  # type: ignore[attr-defined]
