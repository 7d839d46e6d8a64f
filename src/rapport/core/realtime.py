"""Publish/subscribe per workspace and topic, behind an interface Redis can fill later."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import after_commit

Message = dict[str, Any]


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


_hub: Hub = InProcessHub()


def get_hub() -> Hub:
    """Return the process hub."""
    return _hub


def publish_after_commit(
    session: AsyncSession, workspace_id: str, topic: str, message: Message
) -> None:
    """Publish once the session's transaction commits, so subscribers never see a ghost."""

    async def _publish() -> None:
        await get_hub().publish(workspace_id, topic, message)

    after_commit(session, _publish)
