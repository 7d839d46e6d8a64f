"""Failure counting shared by every authentication step: password sign-in and MFA codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.crypto import keyring
from rapport.core.ratelimit import RateLimiter
from rapport.identity.audit import Actor, audit
from rapport.identity.enums import ActorType
from rapport.identity.errors import SignInThrottled
from rapport.identity.models import SignInFailure
from rapport.identity.repository import SignInFailureRepository


@dataclass(frozen=True)
class Limit:
    """At most `max_failures` failures for one account, address or MFA user per window."""

    kind: str
    value: str
    max_failures: int

    @property
    def key(self) -> str:
        """Return the keyed hash failures are stored under (no PII in the table)."""
        return keyring().blind_index(self.value, f"sign-in-throttle:{self.kind}")


# A throttled attempt is audited at most once a minute per account or address: a flood of
# them must not fill the (append-only) log nor take the database writer for each one.
_audited_refusals = RateLimiter(rate=1 / 60, burst=1)


class Throttle:
    def __init__(self, window: timedelta) -> None:
        self.window = window

    async def check(
        self, session: AsyncSession, limits: list[Limit], ip_address: str | None
    ) -> None:
        """Refuse (and audit) the attempt when any limit is reached. A plain read turns a
        flood away; below the limits the count is taken again one at a time per key, so
        attempts running side by side cannot all see one count."""
        failures = SignInFailureRepository(session)
        await self._refuse_if_reached(failures, limits, ip_address)
        await failures.lock_keys([limit.key for limit in limits])
        await self._refuse_if_reached(failures, limits, ip_address)

    async def _refuse_if_reached(
        self, failures: SignInFailureRepository, limits: list[Limit], ip_address: str | None
    ) -> None:
        since = utcnow() - self.window
        for limit in limits:
            if await failures.count_since(limit.key, since) >= limit.max_failures:
                if not _audited_refusals.take(limit.key):
                    await audit.record(
                        failures.session,
                        "staff.sign_in_throttled",
                        Actor(ActorType.anonymous, None, ip_address),
                        details={"limit": limit.kind},
                    )
                raise SignInThrottled(int(self.window.total_seconds()))

    async def reserve(
        self, session: AsyncSession, limits: list[Limit], ip_address: str | None
    ) -> list[str]:
        """Check the limits and count this attempt as a failure before it is judged, so a
        slow check (a password hash) cannot be raced by parallel attempts; return the
        failures to `release` if the attempt succeeds."""
        await self.check(session, limits, ip_address)
        return await self.record_failure(session, limits)

    async def record_failure(self, session: AsyncSession, limits: list[Limit]) -> list[str]:
        """Count one failure against every limit; return the ids of what was recorded."""
        failures = SignInFailureRepository(session)
        recorded = [await failures.add(SignInFailure(key=limit.key)) for limit in limits]
        return [failure.id for failure in recorded]

    async def release(self, session: AsyncSession, failure_ids: list[str]) -> None:
        """Take back failures counted by `reserve` for an attempt that succeeded."""
        await SignInFailureRepository(session).forget(failure_ids)

    async def clear(self, session: AsyncSession, limit: Limit) -> None:
        """Forget the failures of one limit (after a success)."""
        await SignInFailureRepository(session).clear(limit.key)
