"""Widget rate limits per visitor and per address (in-process token buckets, per app)."""

from __future__ import annotations

from starlette.datastructures import State

from rapport.core.ratelimit import RateLimiter
from rapport.support.widget_errors import WidgetThrottled

# A person types a few messages a minute; a burst covers pasting several lines at once.
MESSAGES_PER_MINUTE, MESSAGE_BURST = 20, 10
# One address may hold many visitors (an office, a phone carrier's NAT).
ADDRESS_PER_MINUTE, ADDRESS_BURST = 120, 60
# Every WebSocket frame (typing, read marks, pings) of one visitor.
FRAMES_PER_SECOND, FRAME_BURST = 5, 50


class WidgetLimits:
    """The buckets of one app: messages per visitor and per address, frames per visitor."""

    def __init__(self) -> None:
        self.messages = RateLimiter(MESSAGES_PER_MINUTE / 60, MESSAGE_BURST)
        self.addresses = RateLimiter(ADDRESS_PER_MINUTE / 60, ADDRESS_BURST)
        self.frames = RateLimiter(FRAMES_PER_SECOND, FRAME_BURST)

    def address(self, address: str | None) -> None:
        """Count a request from an address; refuse it when the address sends too much."""
        wait = self.addresses.take(f"ip:{address or 'unknown'}")
        if wait:
            raise WidgetThrottled("Too many widget requests from this address.", wait)

    def message(self, visitor_id: str, address: str | None) -> None:
        """Count a visitor's message; refuse it when they or their address send too many."""
        wait = self.messages.take(visitor_id)
        if wait:
            raise WidgetThrottled("Too many messages; wait a moment.", wait)
        self.address(address)

    def frame(self, visitor_id: str) -> bool:
        """Count a WebSocket frame; tell whether it is within the visitor's allowance."""
        return self.frames.take(visitor_id) == 0


def limits_of(state: State) -> WidgetLimits:
    """Return the app's widget limits, made on first use."""
    limits: WidgetLimits | None = getattr(state, "widget_limits", None)
    if limits is None:
        limits = WidgetLimits()
        state.widget_limits = limits
    return limits
