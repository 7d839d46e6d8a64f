"""The sealed API key does not follow the endpoint to a new host (probe 3.1)."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from tests.assistant.test_generative_settings import BODY, URL
from tests.fixtures.identity import bearer, make_api_key, make_workspace


async def test_a_new_host_needs_the_key_again(
    client: httpx.AsyncClient, database: Database
) -> None:
    key = bearer(await make_api_key(database, await make_workspace(database)))
    assert (await client.put(URL, json=BODY, headers=key)).status_code == 200
    without = {name: value for name, value in BODY.items() if name != "api_key"}
    moved = await client.put(
        URL, json={**without, "base_url": "https://collector.attacker.example/v1"}, headers=key
    )
    assert moved.status_code == 422, moved.text
    assert (await client.get(URL, headers=key)).json()["base_url"] == BODY["base_url"]
    # Same host, another path or model: the key is kept, as documented.
    same = await client.put(URL, json={**without, "model": "other"}, headers=key)
    assert (same.status_code, same.json()["api_key_set"]) == (200, True)
