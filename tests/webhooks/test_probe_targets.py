"""Probe: a webhook URL naming a loopback, private or metadata address in a form Python's
ipaddress does not read (127.1, decimal, hex) or inside an IPv6 address that carries it
(NAT64, 6to4, IPv4-compatible, IPv4-translated), or a site-local one, is refused when saved,
and the delivery would connect to the address that was checked."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from rapport.core.db import Database
from rapport.webhooks.targets import resolve
from tests.webhooks.test_webhooks import EVENTS, api_key


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.1/hook", "private or loopback addresses (127.0.0.1)"),
        ("https://2130706433/hook", "private or loopback addresses (127.0.0.1)"),
        ("https://0x7f.0.0.1/hook", "private or loopback addresses (127.0.0.1)"),
        ("https://0251.0376.0251.0376/hook", "never sent to 169.254.169.254"),
        ("https://[64:ff9b::7f00:1]/hook", "private or loopback addresses (127.0.0.1)"),
        ("https://[64:ff9b::a9fe:a9fe]/hook", "never sent to 169.254.169.254"),
        ("https://[2002:a9fe:a9fe::1]/hook", "never sent to 169.254.169.254"),
        ("https://[2002:c0a8:1::1]/hook", "private or loopback addresses (192.168.0.1)"),
        ("https://[::10.0.0.1]/hook", "private or loopback addresses (10.0.0.1)"),
        ("https://[::ffff:0:7f00:1]/hook", "private or loopback addresses (127.0.0.1)"),
        ("https://[64:ff9b:1::a00:1]/hook", "private or loopback addresses (64:ff9b:1::a00:1)"),
        ("https://[fec0::1]/hook", "private or loopback addresses (fec0::1)"),
    ],
)
async def test_hidden_private_addresses_are_refused(
    database: Database, client: httpx.AsyncClient, url: str, reason: str
) -> None:
    key = await api_key(database)

    answer = await client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": EVENTS}, headers=key
    )

    assert (answer.status_code, answer.json()["error"]) == (422, "WebhookTargetRefused")
    assert reason in answer.json()["detail"]


def test_a_public_6to4_address_is_connected_to_as_written() -> None:
    target = asyncio.run(resolve("https://[2002:101:101::1]/hook", allow_private=False))

    assert (str(target.address), target.connect_url) == (
        "2002:101:101::1",
        "https://[2002:101:101::1]:443/hook",
    )
