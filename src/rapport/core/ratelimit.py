"""In-memory token buckets: cheap rate limits for hot public endpoints (no database)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    """One token bucket per key: `rate` tokens a second, holding at most `burst`.

    Buckets live in this process only (each server process limits on its own) and the least
    recently used are forgotten beyond `max_keys`, so memory stays flat whatever keys
    strangers send. A rate of 0 means no limit."""

    def __init__(
        self,
        rate: float,
        burst: float,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, amount: float = 1) -> int:
        """Take `amount` tokens; return 0 when granted, else the whole seconds to wait."""
        if self.rate <= 0:
            return 0
        tokens = self._refilled(key)
        if tokens < amount:
            return max(1, math.ceil((amount - tokens) / self.rate))
        self._store(key, tokens - amount)
        return 0

    def give_back(self, key: str, amount: float) -> None:
        """Return tokens taken for work that did not happen (never beyond the burst)."""
        if self.rate > 0 and key in self._buckets:
            self._store(key, min(self.burst, self._refilled(key) + amount))

    def wait(self, key: str) -> int:
        """Return the whole seconds until one token is there (0: one is there now)."""
        if self.rate <= 0 or key not in self._buckets:
            return 0
        tokens = self._refilled(key)
        return 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate))

    def _refilled(self, key: str) -> float:
        now = self.clock()
        tokens, then = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - then) * self.rate)

    def _store(self, key: str, tokens: float) -> None:
        self._buckets[key] = (tokens, self.clock())
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
