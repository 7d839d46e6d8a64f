"""SQLite connections for the async engine: statements on the event loop when they are
quick, on the connection's own thread when they may take long.

SQLite's calls block. aiosqlite, which SQLAlchemy's `sqlite+aiosqlite` dialect drives, sends
every call to a thread of the connection's own: opening a cursor, executing, fetching,
closing, four round trips a statement. Each trip is cheap on an idle process and ruinous on
a busy one: the thread needs Python's GIL to hand back every row and result, and while the
event loop is busy it gets it only when the loop lets go (every 5 ms at worst), so a unit of
work of six statements took 115-180 ms under load where it takes a millisecond alone.

So the live path runs its statements **inline**, on the event loop, where a statement of an
OLTP request costs tens of microseconds and nothing waits for a lock: under WAL readers
never wait, one writer at a time is handed the turn in-process (`core.db.WriterTurn`), and
the write lock is taken without waiting (`begin_writing`). What could take long goes to the
thread, one trip a statement (execute, fetch every row, close):
- a read that runs longer than `INLINE_BUDGET` on the loop is interrupted (SQLite's progress
  handler) and run again on the thread; only reads are (not even a PRAGMA), since an
  interrupted write would roll back its whole transaction;
- `executemany` (bulk writes), and everything inside `on_thread()`: background work (jobs;
  `core.db.background_work` enters it) and ingestion's group commit, whose big writes must
  not hold the loop. Event processing's quick path is background work whose statements are
  bounded by its chunk, so it runs inline like the live path (`background_work(bounded=True)`;
  its graph walks go back to the thread, `core.db.unbounded_statements`);
- the commit of background work's write transactions (`commits_on_thread`), and any write
  commit outside WAL mode (it would wait for readers); a read transaction's end, and a
  rollback with nothing to undo (the pool's reset after a commit), stay on the loop; a live
  unit's commit stays on the loop, where it only appends the transaction's pages to the WAL
  (the WAL is checkpointed, pages written back to the database file with fsyncs, by a thread
  of its own, `Checkpointer`);
- taking the write lock while another process holds it (an import beside the server);
- every call while an earlier one is still on the thread (a caller that stopped waiting).

`make_engine` hands `connect` to SQLAlchemy as its `async_creator`, so the URL, the dialect
and everything built on them stay `sqlite+aiosqlite`; only the object under SQLAlchemy's
adapter changes. It offers the part of aiosqlite's interface that the adapter uses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from queue import SimpleQueue
from typing import Any, Literal, TypeVar

T = TypeVar("T")
logger = logging.getLogger(__name__)

INLINE_BUDGET = 0.002  # seconds a read may run on the event loop before it moves to the thread
BUSY_TIMEOUT = 10.0  # seconds a call on the thread waits for another process's lock
_PROGRESS_STEPS = 1000  # SQLite instructions between two looks at the clock
_READS = ("select", "pragma", "explain")
_INTERRUPTIBLE = ("select", "explain", "with")  # a PRAGMA may write: never interrupted
_WRITE_IN_CTE = re.compile(r"\b(insert|update|delete|replace)\b", re.IGNORECASE)
_on_thread: ContextVar[bool] = ContextVar("rapport_sqlite_on_thread", default=False)
_commit_on_thread: ContextVar[bool] = ContextVar("rapport_sqlite_commit_on_thread", default=False)


def reads_only(statement: str) -> bool:
    """Tell whether a statement only reads (SELECT, PRAGMA, EXPLAIN, or WITH ... SELECT)."""
    head = statement.lstrip()[:7].lower()
    if head.startswith(_READS):
        return True
    return head.startswith("with") and _WRITE_IN_CTE.search(statement) is None


@contextmanager
def on_thread(wanted: bool = True) -> Iterator[None]:
    """Run the statements of the units of work opened inside on the connections' threads:
    for background work, whose long statements must not hold the event loop. `False` undoes
    it for work whose every statement is bounded (see `core.db.background_work`)."""
    token = _on_thread.set(wanted)
    try:
        yield
    finally:
        _on_thread.reset(token)


class Checkpointer:
    """Checkpoints the WAL of the databases this process writes, on a thread of its own.

    SQLite checkpoints in the commit that takes the WAL past `wal_autocheckpoint` pages:
    that commit writes pages back to the database file and fsyncs, milliseconds to tens of
    them. So a write transaction's commit went to the connection's thread, and the unit of
    work kept SQLite's writer (`core.db.WriterTurn`) until the event loop came back to it:
    under load that wait, not the commit, was most of the live path's time (the assistant's
    200-conversation bench: the store's p95 38 ms where its p50 is 5). `core.db` raises the
    pool's connections' threshold to a backstop (`BACKSTOP_PAGES`) and this thread
    checkpoints instead (`PRAGMA wal_checkpoint(PASSIVE)`: it waits for nobody and nobody
    waits for it), at most every `INTERVAL` seconds after a commit, on a connection of its
    own. A commit on the loop then only appends its pages to the WAL (no fsync under
    `synchronous=NORMAL`); past the backstop one commit copies what is left and the WAL
    starts over."""

    INTERVAL = 0.2  # seconds: the commits of that span are checkpointed together
    # A commit checkpoints itself past this many WAL pages (~16 MB). Under steady writes that
    # is also how the WAL starts over: this thread copies while writers append, so it never
    # finds the whole WAL copied at the moment a writer begins, which is when SQLite starts
    # the WAL anew. The commit that crosses the line holds the write lock, copies the little
    # this thread has not (at most INTERVAL's worth) and the next writer starts over: a few
    # milliseconds on the loop every 16 MB written. (A `RESTART` from this thread instead
    # made live writers wait on their threads, 50-77 ms spikes in the assistant bench.)
    BACKSTOP_PAGES = 4_000

    def __init__(self) -> None:
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._passing = threading.Lock()  # held while a pass checkpoints
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0  # passes that copied the whole WAL back, for tests and benches

    def wrote(self, path: str) -> None:
        """Note a committed write transaction on the database at `path`."""
        if path == ":memory:":
            return
        with self._lock:
            self._dirty.add(path)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="rapport-sqlite-checkpoint", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def forget(self, path: str) -> None:
        """Drop `path` from the next pass and wait for a pass under way to end (blocks: call
        it on a thread), so closing the last connection folds the WAL in as SQLite does."""
        with self._lock:
            self._dirty.discard(path)
        with self._passing:
            pass

    def _serve(self) -> None:
        try:
            while True:
                self._wake.wait()
                time.sleep(self.INTERVAL)
                self._wake.clear()
                with self._lock:
                    paths, self._dirty = self._dirty, set()
                with self._passing:
                    for path in paths:
                        self.checkpoint(path)
        except Exception:  # never expected: commits then checkpoint at the backstop
            logger.exception("the SQLite checkpointer stopped")
            with self._lock:
                self._thread = None

    def checkpoint(self, path: str) -> bool:
        """Copy `path`'s WAL back into the database as far as its readers allow; True when
        all of it was. False if the database is gone or would not open (nothing is created:
        `mode=rw`)."""
        try:
            # `path` is absolute (`core.db` resolves it): no filesystem lookup a pass.
            raw = sqlite3.connect(f"{Path(path).as_uri()}?mode=rw", uri=True, timeout=0)
        except sqlite3.Error:
            return False
        try:
            raw.execute("PRAGMA synchronous = NORMAL")
            busy, frames, copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            return False
        finally:
            raw.close()
        done = bool(busy == 0 and frames == copied)
        self.checkpoints += done
        return done


checkpointer = Checkpointer()


def _forked() -> None:
    # The thread did not come along into a forked child: its first write starts its own.
    global checkpointer
    checkpointer = Checkpointer()


os.register_at_fork(after_in_child=_forked)


@contextmanager
def commits_on_thread() -> Iterator[None]:
    """Commit the write transactions of the units of work opened inside on the connections'
    threads even when their statements run on the loop: for background work, whose commit
    then overlaps the loop's next piece of work (event processing's next chunk). Committing
    event processing's chunks on the loop instead measured no faster (three alternating 15 s
    runs each on one 200,000-call database: 18,073-18,853 calls/s against 18,673-19,628;
    run-to-run noise here is ~10 %)."""
    token = _commit_on_thread.set(True)
    try:
        yield
    finally:
        _commit_on_thread.reset(token)


class _Overran(Exception):
    """A read ran past its budget on the event loop and was interrupted."""


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
        self._sent = 0  # calls sent to the thread (written on the loop only)
        self._done = 0  # calls the thread has run (written on the thread only)
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
                self._done += 1
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
            self._sent += 1
            self._jobs.put((call, args, (future.get_loop(), future)))

    @property
    def idle(self) -> bool:
        """Open, and nothing sent to the thread is still running there."""
        return not self.closed and self._sent == self._done

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
        interruptible = sql.lstrip()[:7].lower().startswith(_INTERRUPTIBLE) and reads_only(sql)
        budget = INLINE_BUDGET if interruptible else None
        await self._connection.call(self._execute, sql, parameters, budget=budget)
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

    def __init__(self, lane: _Lane, raw: sqlite3.Connection, path: str) -> None:
        self.lane = lane
        self.raw: sqlite3.Connection = raw
        self.path = path
        self._wrote = False  # holds the write lock: from begin_writing to commit or rollback
        self._wal: bool | None = None  # in WAL mode (asked at the first write's commit)
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

    def _inline(self) -> bool:
        return self.lane.idle and not _on_thread.get()

    async def call(self, work: Callable[..., T], *args: Any, budget: float | None = None) -> T:
        """Run `work(*args)` on the event loop when it may (within `budget` seconds, if one
        is given), otherwise on the connection's thread."""
        if self._inline():
            if budget is None:
                return work(*args)
            with suppress(_Overran):
                return self._within(budget, work, *args)
        return await self.lane.run(work, *args)

    def _within(self, budget: float, work: Callable[..., T], *args: Any) -> T:
        deadline = time.perf_counter() + budget
        overran = False

        def past_deadline() -> bool:
            nonlocal overran
            overran = time.perf_counter() > deadline
            return overran

        self.raw.set_progress_handler(past_deadline, _PROGRESS_STEPS)
        try:
            return work(*args)
        except sqlite3.OperationalError:
            if overran:
                raise _Overran from None
            raise
        finally:
            self.raw.set_progress_handler(None, 0)

    async def begin_writing(self) -> None:
        """End the read transaction and begin a write one (`COMMIT`, `BEGIN IMMEDIATE`).

        On the event loop the write lock is taken without waiting; if another process holds
        it, the wait (up to `BUSY_TIMEOUT`) happens on the thread."""
        if not self._inline():
            await self.lane.run(self._execute_each, ("COMMIT", "BEGIN IMMEDIATE"))
        elif not self._begin_writing_now():
            await self.lane.run(self._execute_each, ("BEGIN IMMEDIATE",))
        self._wrote = True

    def _begin_writing_now(self) -> bool:
        """`COMMIT` and `BEGIN IMMEDIATE` without waiting: False when another process holds
        the write lock (the read transaction has ended then)."""
        self.raw.execute("COMMIT")
        self.raw.execute("PRAGMA busy_timeout = 0")
        try:
            self.raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # any kind of busy
                raise
            return False
        finally:
            self.raw.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        return True

    def _execute_each(self, statements: tuple[str, ...]) -> None:
        for statement in statements:
            self.raw.execute(statement)

    async def commit(self) -> None:
        # On the loop, a write transaction's commit only appends its pages to the WAL (the
        # `checkpointer` writes them back), and ending a read transaction costs nothing.
        # Committing on the loop also hands SQLite's writer on at once instead of after a
        # trip to the thread and back. Not in background work (`commits_on_thread`), and
        # not outside WAL mode (a filesystem without it), where a commit waits for readers.
        # A read transaction ends on the loop even in background work: a trip to the thread
        # would cost more than it does.
        wrote, self._wrote = self._wrote, False
        if wrote and (_commit_on_thread.get() or not self._inline() or not self._in_wal()):
            await self.lane.run(self.raw.commit)
        elif not wrote and self.lane.idle:
            self.raw.commit()
        else:
            await self.call(self.raw.commit)
        if wrote:
            checkpointer.wrote(self.path)

    def _in_wal(self) -> bool:
        if self._wal is None:
            mode = self.raw.execute("PRAGMA journal_mode").fetchone()[0]
            self._wal = str(mode).lower() == "wal"
        return self._wal

    async def rollback(self) -> None:
        self._wrote = False
        if self.lane.idle and not self.raw.in_transaction:
            return  # nothing to undo (the pool's reset of a connection after its commit)
        await self.call(self.raw.rollback)

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
            lambda: sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=isolation, check_same_thread=False
            )
        )
    except BaseException:
        lane.finish()
        raise
    return Connection(lane, raw, path)
