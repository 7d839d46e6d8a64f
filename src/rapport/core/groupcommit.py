"""Group commit: many requests' writes in one transaction, each answered once it commits."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Database
from rapport.core.sqlite_driver import on_thread

Item = TypeVar("Item")
Write = Callable[[AsyncSession, list[Item]], Awaitable[None]]


@dataclass
class _Waiting(Generic[Item]):
    item: Item
    size: int
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit(Generic[Item]):
    """One writer per database: whatever arrives while a transaction is being written joins the
    next one (up to `max_size`), so the database is never idle waiting for the next request and
    the cost of a transaction is shared. `submit` returns only after the item's transaction has
    committed. When a group fails, its items are written again one by one, so one bad item
    fails alone."""

    def __init__(self, database: Database, write: Write[Item], max_size: int) -> None:
        self.database = database
        self.write = write
        self.max_size = max_size
        self._queue: deque[_Waiting[Item]] = deque()
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item, size: int = 1) -> None:
        """Write `item` in the next transaction; return once it has committed, or raise why
        it could not be written."""
        waiting = _Waiting(item, size)
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            # Its bulk writes run on the connection's thread, not on the event loop.
            with on_thread():
                self._writer = asyncio.create_task(self._drain())
        # Shielded: a client that hangs up does not take the write down with it.
        await asyncio.shield(waiting.done)

    async def _drain(self) -> None:
        group: list[_Waiting[Item]] = []
        try:
            while self._queue:
                group = self._next_group()
                await self._write_group(group)
        except asyncio.CancelledError:  # shutting down: nobody is left waiting forever
            for waiting in [*group, *self._queue]:
                _settle(waiting, RuntimeError("The server is shutting down; nothing was stored."))
            self._queue.clear()
            raise

    async def _write_group(self, group: list[_Waiting[Item]]) -> None:
        try:
            await self._commit([waiting.item for waiting in group])
        except Exception as error:  # every waiter learns its own outcome
            if len(group) == 1:
                _settle(group[0], error)
                return
            for waiting in group:
                await self._write_alone(waiting)
        else:
            for waiting in group:
                _settle(waiting, None)

    def _next_group(self) -> list[_Waiting[Item]]:
        group = [self._queue.popleft()]
        size = group[0].size
        while self._queue and size + self._queue[0].size <= self.max_size:
            waiting = self._queue.popleft()
            group.append(waiting)
            size += waiting.size
        return group

    async def _write_alone(self, waiting: _Waiting[Item]) -> None:
        try:
            await self._commit([waiting.item])
        except Exception as error:
            _settle(waiting, error)
        else:
            _settle(waiting, None)

    async def _commit(self, items: list[Item]) -> None:
        async with self.database.session() as session:
            await self.write(session, items)


def _settle(waiting: _Waiting[Item], error: Exception | None) -> None:
    if waiting.done.done():
        return
    if error is None:
        waiting.done.set_result(None)
    else:
        waiting.done.set_exception(error)
