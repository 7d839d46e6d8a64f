"""Reads shared by the figures of one page: inside `shared_reads`, a read asked for twice
with the same key (a window's metric events, a window's orders) is made once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
_SHARED = "rapport_shared_metric_reads"


@contextmanager
def shared_reads(session: AsyncSession) -> Iterator[None]:
    """Make each read once for all the figures computed inside (a page showing one window's
    summary, series and breakdowns), which then agree by construction. Only for units of
    work that write nothing the reads see meanwhile (the metrics service never writes)."""
    if _SHARED in session.info:  # already shared by an enclosing block
        yield
        return
    session.info[_SHARED] = {}
    try:
        yield
    finally:
        session.info.pop(_SHARED, None)


async def once(session: AsyncSession, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """Return `read()`, made once per key inside `shared_reads` (every time outside)."""
    shared: dict[Any, Any] | None = session.info.get(_SHARED)
    if shared is None:
        return await read()
    if key not in shared:
        shared[key] = await read()
    found: T = shared[key]
    return found
