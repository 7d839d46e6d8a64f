"""Publish/subscribe per workspace and topic: in-process by default, over Redis pub/sub when
`RAPPORT_REDIS_URL` is set (core/realtime_redis.py), so every server process sees every push."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import after_commit

Message = dict[str, Any]

# Sent to every subscriber when pushes may have been missed (the link to Redis came back):
# pushes only say "read again", so a subscriber catches up from the database on it.
RESYNC = "realtime.resync"


class Hub(Protocol):
    """Fan-out of messages to every subscriber of (workspace, topic)."""

    async def publish(self, workspace_id: str, topic: str, message: Message) -> None:
        """Deliver `message` to every current subscriber of the topic."""

    def open(self, workspace_id: str, topic: str) -> AbstractAsyncContextManager[Subscription]:
        """Subscribe for the lifetime of the returned context."""


class Subscription:
    """A subscriber's queue; iterate it to receive messages."""

    def __init__(self, maxsize: int = 1000) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=maxsize)

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while True:
            yield await self.queue.get()


class InProcessHub:
    """The default hub: subscribers in this process only."""

    def __init__(self) -> None:
        self._subscribers: dict[tuple[str, str], set[Subscription]] = defaultdict(set)

    async def publish(self, workspace_id: str, topic: str, message: Message) -> None:
        """Deliver to local subscribers; a full (stalled) subscriber drops the message."""
        for subscription in list(self._subscribers.get((workspace_id, topic), ())):
            if not subscription.queue.full():
                subscription.queue.put_nowait(message)

    def resync(self) -> None:
        """Tell every subscriber to catch up from the database (pushes may have been lost)."""
        for subscriptions in list(self._subscribers.values()):
            for subscription in list(subscriptions):
                if not subscription.queue.full():
                    subscription.queue.put_nowait({"type": RESYNC})

    @asynccontextmanager
    async def open(self, workspace_id: str, topic: str) -> AsyncIterator[Subscription]:
        """Subscribe for the lifetime of the context."""
        subscription = Subscription()
        key = (workspace_id, topic)
        self._subscribers[key].add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers[key].discard(subscription)
            if not self._subscribers[key]:
                del self._subscribers[key]


class RunningHub(Hub, Protocol):
    """A hub with a connection of its own to stop when the process ends."""

    async def stop(self) -> None:
        """Close the hub's connections."""


_hub: Hub = InProcessHub()
_running: RunningHub | None = None


def get_hub() -> Hub:
    """Return the process hub."""
    return _hub


async def start_hub(redis_url: str | None) -> None:
    """Make the process hub relay over Redis when a URL is given; keep the in-process hub
    otherwise (several apps in one process, as in tests, then share it)."""
    global _hub, _running
    if not redis_url or _running is not None:
        return
    from rapport.core.realtime_redis import RedisHub

    hub = RedisHub(redis_url)
    hub.start()
    _hub = _running = hub


async def stop_hub() -> None:
    """Stop the Redis hub, if one runs, and go back to the in-process hub."""
    global _hub, _running
    if _running is None:
        return
    running, _running = _running, None
    _hub = InProcessHub()
    await running.stop()


def publish_after_commit(
    session: AsyncSession, workspace_id: str, topic: str, message: Message
) -> None:
    """Publish once the session's transaction commits, so subscribers never see a ghost."""

    async def _publish() -> None:
        await get_hub().publish(workspace_id, topic, message)

    after_commit(session, _publish)
