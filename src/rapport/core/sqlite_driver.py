"""SQLite connections for the async engine, one trip to the connection's thread a statement.

SQLite's calls block, so each connection lives on a thread of its own and the event loop
sends it work. aiosqlite, which SQLAlchemy's `sqlite+aiosqlite` dialect drives, does that
for every call: opening a cursor, executing, fetching, closing the cursor, four round trips
a statement, each a queue, a thread wake-up and a loop wake-up. On the live path that was a
large share of the CPU a request costs. Here a statement is one trip: the thread executes
it, fetches every row and closes the cursor, and the answer comes back at once.

`make_engine` hands `connect` to SQLAlchemy as its `async_creator`, so the URL, the dialect
and everything built on them stay `sqlite+aiosqlite`; only the object under SQLAlchemy's
adapter changes. It offers the part of aiosqlite's interface that the adapter uses.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from queue import SimpleQueue
from typing import Any, Literal, TypeVar

T = TypeVar("T")

_Reply = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]"]
_Job = tuple[Callable[..., Any], tuple[Any, ...], _Reply | None]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return  # the caller gave up waiting; the call itself ran
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class _Lane:
    """One thread running one connection's calls in the order they were sent."""

    def __init__(self) -> None:
        self.closed = False
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="rapport-sqlite", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            call, args, reply = job
            result: Any = None
            error: BaseException | None = None
            try:
                result = call(*args)
            except BaseException as caught:  # handed to the caller, whatever it was
                error = caught
            if reply is not None:
                loop, future = reply
                with suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                    loop.call_soon_threadsafe(_settle, future, result, error)
            del job, reply, result, error

    def send(
        self, call: Callable[..., Any], args: tuple[Any, ...], future: asyncio.Future[Any]
    ) -> None:
        """Run `call(*args)` on the thread and settle `future` with its outcome."""
        if self.closed:
            future.set_exception(sqlite3.ProgrammingError("Cannot operate on a closed database."))
        else:
            self._jobs.put((call, args, (future.get_loop(), future)))

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """Run `call(*args)` on the thread and return what it returned (or raise)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.send(call, args, future)
        return await future

    async def close(self, closer: Callable[[], Any]) -> None:
        """Run `closer` last, then end the thread; calls sent later are refused."""
        if self.closed:
            return
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.send(closer, (), future)
        self.finish()
        await future

    def finish(self, closer: Callable[[], Any] | None = None) -> None:
        """End the thread once the calls already sent (and `closer`) have run, without
        waiting: for a terminated connection, and one collected without being closed."""
        if self.closed:
            return
        self.closed = True
        if closer is not None:
            self._jobs.put((closer, (), None))
        self._jobs.put(None)


class _Requests:
    """aiosqlite's request queue, as SQLAlchemy's adapter uses it to set an isolation
    level: `(future, function)` pairs."""

    def __init__(self, lane: _Lane) -> None:
        self._lane = lane

    def put_nowait(self, request: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = request
        self._lane.send(function, (), future)


class Cursor:
    """A statement's result: executed and fetched in one trip, then read from memory."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def _take(self, cursor: sqlite3.Cursor) -> None:
        self.description = cursor.description
        self._rows = cursor.fetchall() if cursor.description else []
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid

    def _execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any]) -> None:
        cursor = self._connection.raw.cursor()
        try:
            self._take(cursor.execute(sql, parameters))
        finally:
            cursor.close()

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> None:
        cursor = self._connection.raw.cursor()
        try:
            self._take(cursor.executemany(sql, rows))
        finally:
            cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        await self._connection.lane.run(self._execute, sql, parameters)
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> Cursor:
        await self._connection.lane.run(self._executemany, sql, rows)
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = size or self.arraysize
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def close(self) -> None:
        self._rows = []


class Connection:
    """A sqlite3 connection on its own thread, with the awaitable calls SQLAlchemy's
    aiosqlite adapter makes. Once closed, every call raises sqlite3's ProgrammingError, which
    SQLAlchemy takes for a lost connection."""

    def __init__(self, lane: _Lane, raw: sqlite3.Connection) -> None:
        self.lane = lane
        self.raw: sqlite3.Connection = raw
        # Dropped without close(): the thread closes the connection and ends.
        weakref.finalize(self, lane.finish, raw.close)

    @property
    def _connection(self) -> sqlite3.Connection | None:
        # SQLAlchemy's adapter asks this to tell an open connection from a closed one.
        return None if self.lane.closed else self.raw

    @property
    def _conn(self) -> sqlite3.Connection:
        return self.raw  # the adapter's isolation-level setter changes it on the thread

    @property
    def _tx(self) -> _Requests:
        return _Requests(self.lane)

    @property
    def isolation_level(self) -> str | None:
        return self.raw.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self)

    async def execute_each(self, *statements: str) -> None:
        """Run statements without parameters one after the other, in one trip (a
        transaction's control: `COMMIT` then `BEGIN IMMEDIATE`). Stops at the first error."""
        await self.lane.run(self._execute_each, statements)

    def _execute_each(self, statements: tuple[str, ...]) -> None:
        for statement in statements:
            self.raw.execute(statement)

    async def commit(self) -> None:
        await self.lane.run(self.raw.commit)

    async def rollback(self) -> None:
        await self.lane.run(self.raw.rollback)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        await self.lane.run(lambda: self.raw.create_function(*args, **kwargs))

    async def close(self) -> None:
        await self.lane.close(self.raw.close)

    def stop(self) -> None:
        """Close without waiting (SQLAlchemy's terminate): the thread closes it next."""
        self.lane.finish(self.raw.close)


async def connect(path: str, *, autocommit: bool) -> Connection:
    """Open `path`. With `autocommit`, sqlite3 opens no transaction of its own: the caller
    begins each one explicitly (see `core.db`); without it, sqlite3's default deferred
    transactions apply (migrations)."""
    lane = _Lane()
    isolation: Literal["DEFERRED"] | None = None if autocommit else "DEFERRED"
    try:
        raw = await lane.run(
            lambda: sqlite3.connect(path, isolation_level=isolation, check_same_thread=False)
        )
    except BaseException:
        lane.finish()
        raise
    return Connection(lane, raw)
