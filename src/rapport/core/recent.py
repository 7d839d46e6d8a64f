"""Settings read for every message, remembered for a few seconds in this process.

A chat message reads its workspace's assistant settings, the knowledge base's default locale
and the workspace's slug: rows that change a few times a year, read 50 times a second under
load. `Recent` keeps what a read returned for `seconds`. Under load nearly every read is
answered from memory; at rest an entry lapses before its next use and the database answers,
as before.

A change is seen at once by the process that made it (`forget_on_commit` drops the key when
the change is written and again when it commits) and by every other process within
`seconds`. A value read while a change was being made is not kept: each `forget` moves a
generation on, and `load` keeps only what it read within one generation.

Keep only small immutable values here (frozen models, strings): every caller shares them.
Used from the event loop's thread only."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import after_commit

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# How long a setting read on the live path is kept: how late another process sees a change.
SETTINGS_SECONDS = 5.0


class Recent(Generic[K, V]):
    """Values by key, each kept for `seconds` after it was read (the oldest of more than
    `max_items` dropped first)."""

    def __init__(self, seconds: float, max_items: int = 10_000) -> None:
        if seconds <= 0 or max_items <= 0:
            raise ValueError("seconds and max_items must be positive")
        self.seconds, self.max_items = seconds, max_items
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._generation = 0

    async def load(self, key: K, read: Callable[[], Awaitable[V]]) -> V:
        """Return the value kept for `key`, or `read()` it (and keep it, unless the key was
        forgotten while it was being read)."""
        kept = self._items.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        generation = self._generation
        value = await read()
        if generation == self._generation:
            self._items[key] = (time.monotonic() + self.seconds, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return value

    def forget(self, key: K) -> None:
        """Drop `key` (its next read goes to the database); reads under way are not kept."""
        self._generation += 1
        self._items.pop(key, None)

    def forget_on_commit(self, session: AsyncSession, key: K) -> None:
        """Drop `key` now, for a change `session` is writing, and again once it commits (a
        read between the two saw the old value)."""
        self.forget(key)

        async def forget_committed() -> None:
            self.forget(key)

        after_commit(session, forget_committed)
