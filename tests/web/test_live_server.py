"""The live-server fixture serves real HTTP on loopback."""

from __future__ import annotations

import httpx

from tests.fixtures.server import LiveServer


async def test_live_server_answers_health(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
