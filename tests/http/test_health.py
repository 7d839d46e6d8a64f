"""Liveness and readiness probes."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from rapport.app import create_app
from rapport.config import Settings
from rapport.core.db import Database


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_answers_ok_when_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


async def test_readyz_is_503_when_database_is_down(settings: Settings) -> None:
    unreachable = Database("postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none")
    app: FastAPI = create_app(settings, unreachable)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.get("/readyz")
    await unreachable.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}
