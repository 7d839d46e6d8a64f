"""Errors: one JSON shape with the right status; never a stack trace."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from rapport.core.db import Database
from rapport.identity.enums import Scope
from rapport.identity.errors import LastOwner
from tests.fixtures.identity import bearer, make_api_key, make_workspace


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")


async def test_rapport_error_renders_class_name_detail_and_status(app: FastAPI) -> None:
    @app.get("/test-only/rapport-error")
    async def _raise() -> None:
        raise LastOwner("A workspace must keep at least one owner.")

    async with _client(app) as client:
        response = await client.get("/test-only/rapport-error")
    assert response.status_code == 409
    assert response.json() == {
        "error": "LastOwner",
        "detail": "A workspace must keep at least one owner.",
    }


async def test_bad_payload_is_422_validation_error(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    secret = await make_api_key(database, workspace)
    response = await client.post(
        "/api/v1/api-keys", json={"name": "", "scopes": ["no:such"]}, headers=bearer(secret)
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "ValidationError"
    assert [problem["location"] for problem in body["problems"]] == [
        ["body", "name"],
        ["body", "scopes", "0"],
    ]


async def test_unknown_route_is_404_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": "NotFound", "detail": "Not Found"}


async def test_wrong_method_is_405_json(client: httpx.AsyncClient) -> None:
    response = await client.put("/healthz")
    assert response.status_code == 405
    assert response.json() == {"error": "MethodNotAllowed", "detail": "Method Not Allowed"}


async def test_unexpected_exception_is_500_without_stack_trace(app: FastAPI) -> None:
    @app.get("/test-only/crash")
    async def _crash() -> None:
        raise RuntimeError("secret internals: /etc/passwd line 42")

    async with _client(app) as client:
        response = await client.get("/test-only/crash")
    assert response.status_code == 500
    body = response.json()
    assert body == {
        "error": "InternalError",
        "detail": "Something went wrong on our side.",
        "request_id": response.headers["x-request-id"],
    }
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


async def test_unexpected_exception_response_carries_security_headers(app: FastAPI) -> None:
    @app.get("/test-only/crash")
    async def _crash() -> None:
        raise RuntimeError("boom")

    async with _client(app) as client:
        response = await client.get("/test-only/crash")
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_missing_credentials_is_401_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {"error": "NotSignedIn", "detail": "Sign in or send an API key."}


async def test_missing_scope_is_403_json(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    secret = await make_api_key(database, workspace, [Scope.workspace_read])
    response = await client.get("/api/v1/audit-events", headers=bearer(secret))
    assert response.status_code == 403
    assert response.json() == {
        "error": "MissingScope",
        "detail": "This needs the scope(s): audit:read.",
    }


async def test_nul_character_in_a_payload_is_422_not_500(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    response = await client.post(
        "/api/v1/sources",
        json={"name": "web\u0000shop"},
        headers=bearer(await make_api_key(database, workspace)),
    )
    if database.is_postgres:
        assert response.status_code == 422
        assert response.json() == {
            "error": "ValidationError",
            "detail": "Text must not contain NUL characters.",
        }
    else:
        assert response.status_code == 201  # SQLite stores NUL characters faithfully
