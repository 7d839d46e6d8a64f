"""The Redis hub against a real redis-server: two hubs stand for two server processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from rapport.core.realtime import RESYNC, Message, Subscription
from rapport.core.realtime_redis import CHANNEL_PREFIX, RedisHub
from tests.fixtures.redis import (
    NO_REDIS,
    REDIS_SERVER,
    OwnRedis,
    any_redis,
    own_redis,
    redis_available,
)
from tests.fixtures.server import free_port

pytestmark = pytest.mark.skipif(not redis_available(), reason=NO_REDIS)

WAIT = 30.0


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real Redis."""
    with any_redis(tmp_path) as url:
        yield url


async def _started(url: str) -> RedisHub:
    hub = RedisHub(url)
    hub.start()
    await asyncio.wait_for(hub.connected.wait(), WAIT)
    return hub


@pytest.fixture
async def hubs(redis_url: str) -> AsyncIterator[tuple[RedisHub, RedisHub]]:
    """Two connected hubs on one Redis, as two server processes would have."""
    first, second = await _started(redis_url), await _started(redis_url)
    yield first, second
    await first.stop()
    await second.stop()


async def _next(subscription: Subscription) -> Message:
    return await asyncio.wait_for(subscription.queue.get(), WAIT)


async def _until_down(*hubs: RedisHub) -> None:
    """Wait (at most WAIT) until none of `hubs` is connected."""

    async def poll() -> None:
        while any(hub.connected.is_set() for hub in hubs):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), WAIT)


async def test_a_push_reaches_the_subscribers_of_another_process_once(
    hubs: tuple[RedisHub, RedisHub],
) -> None:
    first, second = hubs
    async with (
        first.open("w1", "conversations") as here,
        second.open("w1", "conversations") as there,
    ):
        await first.publish("w1", "conversations", {"n": 1})
        await first.publish("w1", "conversations", {"n": 2})
        assert [await _next(there), await _next(there)] == [{"n": 1}, {"n": 2}]
        # Its own push comes back from Redis too: the hub skips it, so n=1 arrives once.
        assert [await _next(here), await _next(here)] == [{"n": 1}, {"n": 2}]


async def test_workspaces_and_topics_stay_apart(hubs: tuple[RedisHub, RedisHub]) -> None:
    first, second = hubs
    async with second.open("w1", "conversation:a") as there:
        await first.publish("w2", "conversation:a", {"n": 1})
        await first.publish("w1", "conversation:b", {"n": 2})
        await first.publish("w1", "conversation:a", {"n": 3})
        assert await _next(there) == {"n": 3}


async def test_a_malformed_message_on_the_channel_is_ignored(
    hubs: tuple[RedisHub, RedisHub], redis_url: str
) -> None:
    first, second = hubs
    stranger = redis.asyncio.Redis.from_url(redis_url)
    async with second.open("w1", "conversations") as there:
        await stranger.publish(f"{CHANNEL_PREFIX}w1:conversations", b"not json")
        await stranger.publish(f"{CHANNEL_PREFIX}w1:conversations", b'{"origin": "x"}')
        await first.publish("w1", "conversations", {"n": 1})
        assert await _next(there) == {"n": 1}
    await stranger.aclose()


def _drop_link(redis_url: str, hub: RedisHub) -> None:
    """Close one hub's subscription connection from the Redis side (the others keep theirs)."""
    admin = redis.Redis.from_url(redis_url)
    try:
        for entry in admin.client_list():
            if entry.get("name") == f"rapport-relay-{hub.origin}":
                admin.client_kill_filter(_id=entry["id"])
    finally:
        admin.close()


async def test_pushes_one_process_could_not_send_make_every_process_catch_up(
    hubs: tuple[RedisHub, RedisHub], redis_url: str
) -> None:
    first, second = hubs
    async with second.open("w1", "conversations") as there:
        _drop_link(redis_url, first)
        await _until_down(first)
        await first.publish("w1", "conversations", {"n": 1})  # cannot go out: link down
        await asyncio.wait_for(first.connected.wait(), WAIT)
        assert await _next(there) == {"type": RESYNC}
        await first.publish("w1", "conversations", {"n": 2})
        assert await _next(there) == {"n": 2}


@pytest.fixture
def outage_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server of this test's own, to stop and start again."""
    if REDIS_SERVER is None:
        pytest.skip("needs Debian's redis-server to stop and restart it")
    with own_redis(tmp_path) as server:
        yield server


async def test_redis_going_away_keeps_local_pushes_and_resyncs_when_back(
    outage_redis: OwnRedis,
) -> None:
    first, second = await _started(outage_redis.url), await _started(outage_redis.url)
    try:
        async with (
            first.open("w1", "conversations") as here,
            second.open("w1", "conversations") as there,
        ):
            outage_redis.stop()
            await _until_down(first, second)
            await first.publish("w1", "conversations", {"n": 1})  # never raises
            assert await _next(here) == {"n": 1}
            outage_redis.start()
            await asyncio.wait_for(second.connected.wait(), WAIT)
            assert await _next(there) == {"type": RESYNC}
            await asyncio.wait_for(first.connected.wait(), WAIT)
            assert await _next(here) == {"type": RESYNC}
            await first.publish("w1", "conversations", {"n": 2})
            # Maybe told again by the first hub, which could not send n=1 (when the second was
            # back before it), then n=2.
            seen = [await _next(there)]
            if seen[-1] != {"n": 2}:
                seen.append(await _next(there))
            assert seen in ([{"n": 2}], [{"type": RESYNC}, {"n": 2}])
    finally:
        await first.stop()
        await second.stop()


async def test_a_hub_starts_and_publishes_with_no_redis_at_all() -> None:
    hub = RedisHub(f"redis://127.0.0.1:{free_port()}/0")
    hub.start()
    try:
        async with hub.open("w1", "conversations") as here:
            await hub.publish("w1", "conversations", {"n": 1})
            assert await _next(here) == {"n": 1}
            assert not hub.connected.is_set()
    finally:
        await hub.stop()
