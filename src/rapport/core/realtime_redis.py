"""The realtime hub over Redis pub/sub: every server process relays every push to its own
WebSockets. Pushes only tell clients to read again, so Redis is a doorbell, never the record:
when the link drops, the process logs it, keeps delivering its own pushes, reconnects with
backoff and then tells every local subscriber to catch up from the database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from rapport.core.realtime import InProcessHub, Message, Subscription

logger = logging.getLogger(__name__)

# One pattern for the whole process, subscribed once per connection: a subscriber joining
# later costs no round trip, and nothing published after the pattern is confirmed is missed.
CHANNEL_PREFIX = "rapport:realtime:"
PATTERN = CHANNEL_PREFIX + "*"
# A process whose pushes did not go out while its link was down says so once it is back, and
# every process then has its clients catch up.
RESYNC_CHANNEL = CHANNEL_PREFIX + "resync"
TIMEOUT_SECONDS = 2.0
# Quiet this long: ping; no answer within another such wait: the link is taken as lost.
HEALTH_SECONDS = 15.0
FIRST_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 0.5, 30.0


def _client(url: str, retries: int = 0, name: str | None = None) -> Redis:
    """Return a client that fails fast instead of retrying for long behind our back."""
    return Redis.from_url(
        url,
        client_name=name,
        socket_connect_timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
        socket_keepalive=True,
        retry=Retry(NoBackoff(), retries),
    )


class RedisHub:
    """Publishes on Redis and relays what other processes publish to local subscribers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.origin = uuid.uuid4().hex  # its own pushes come back from Redis: skip those
        self.connected = asyncio.Event()
        self._local = InProcessHub()
        # One retry gets past a pooled connection Redis closed; a push sent twice is harmless.
        self._publisher = _client(url, retries=1)
        self._task: asyncio.Task[None] | None = None
        self._missed = False  # a push did not reach Redis: others must catch up

    def start(self) -> None:
        """Start relaying (in the background; the server starts even if Redis is down)."""
        self._task = asyncio.create_task(self._relay_forever(), name="realtime-redis-relay")

    async def stop(self) -> None:
        """Stop relaying and close the connections."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._publisher.aclose()

    async def publish(self, workspace_id: str, topic: str, message: Message) -> None:
        """Deliver to local subscribers at once, then to other processes through Redis;
        never raises (the database holds the truth, clients catch up from it)."""
        await self._local.publish(workspace_id, topic, message)
        if not self.connected.is_set():
            self._missed = True  # once back, the relay makes every process catch up
            return
        envelope = {"origin": self.origin, "workspace": workspace_id, "topic": topic}
        try:
            data = json.dumps({**envelope, "message": message}, separators=(",", ":"))
            await self._publisher.publish(f"{CHANNEL_PREFIX}{workspace_id}:{topic}", data)
        except (RedisError, OSError) as error:
            self._missed = True
            logger.warning("realtime: publishing on Redis failed (%s)", type(error).__name__)
        except (TypeError, ValueError):
            logger.exception("realtime: a push on topic %s is not JSON", topic.split(":", 1)[0])

    @asynccontextmanager
    async def open(self, workspace_id: str, topic: str) -> AsyncIterator[Subscription]:
        """Subscribe for the lifetime of the context (a local registration)."""
        async with self._local.open(workspace_id, topic) as subscription:
            yield subscription

    async def _relay_forever(self) -> None:
        """Keep a pattern subscription up; after every (re)connection, resync subscribers."""
        backoff, reported = FIRST_BACKOFF_SECONDS, False
        while True:
            client = _client(self.url, name=f"rapport-relay-{self.origin}")
            try:
                async with client.pubsub() as pubsub:
                    await self._subscribe(pubsub)
                    self.connected.set()
                    logger.info("realtime: relaying over Redis")
                    backoff, reported = FIRST_BACKOFF_SECONDS, False
                    self._local.resync()
                    await self._tell_others()
                    await self._relay(pubsub)
            except (RedisError, OSError, TimeoutError) as error:
                if not reported:
                    logger.error(
                        "realtime: no link to Redis (%s); pushes reach this process's clients "
                        "only until it is back, then they catch up", type(error).__name__,
                    )  # fmt: skip
                    reported = True
            finally:
                self.connected.clear()
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose()
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))  # noqa: S311 (jitter)
            backoff = min(MAX_BACKOFF_SECONDS, backoff * 2)

    async def _tell_others(self) -> None:
        """Have every process's clients catch up when some of our pushes never went out."""
        if self._missed:
            envelope = {"origin": self.origin, "resync": True}
            await self._publisher.publish(RESYNC_CHANNEL, json.dumps(envelope))
            self._missed = False

    async def _subscribe(self, pubsub: PubSub) -> None:
        """Subscribe to the pattern and wait until Redis confirms it."""
        await pubsub.psubscribe(PATTERN)
        async with asyncio.timeout(TIMEOUT_SECONDS):
            while True:
                answer = await pubsub.get_message(timeout=TIMEOUT_SECONDS)
                if answer is not None and answer["type"] == "psubscribe":
                    return

    async def _relay(self, pubsub: PubSub) -> None:
        """Hand each message from other processes to local subscribers until the link fails."""
        pinged = False
        while True:
            received = await pubsub.get_message(timeout=HEALTH_SECONDS)
            if received is None:
                if pinged:
                    raise TimeoutError("no answer to a ping")
                await pubsub.ping()
                pinged = True
                continue
            pinged = False
            if received["type"] == "pmessage":
                await self._deliver(received["data"])

    async def _deliver(self, data: Any) -> None:
        try:
            envelope = json.loads(data)
            if envelope["origin"] == self.origin:
                return
            if envelope.get("resync") is True:
                self._local.resync()
                return
            workspace_id, topic = str(envelope["workspace"]), str(envelope["topic"])
            message = envelope["message"]
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning("realtime: ignored a malformed message from Redis")
            return
        await self._local.publish(workspace_id, topic, message)
