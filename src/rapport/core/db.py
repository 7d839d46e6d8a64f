"""Database engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, cast

from sqlalchemy import DateTime, ForeignKey, MetaData, String, event, text
from sqlalchemy.engine import Connection, ExecutionContext, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry, NullPool
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

from rapport.core import sqlite_driver
from rapport.core.clock import as_utc, utcnow
from rapport.core.ids import new_id
from rapport.errors import RapportError

logger = logging.getLogger(__name__)
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

AfterCommit = Callable[[], Awaitable[None]]


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    """Declarative base with the naming convention Alembic relies on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime}


class IdMixin:
    """A UUIDv7 primary key and a creation time."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TenantMixin(IdMixin, Base):
    """Marks a tenant-owned table: every row belongs to exactly one workspace."""

    __abstract__ = True

    workspace_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )


def _configure_sqlite(engine: AsyncEngine, writer: WriterTurn) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun explicitly below: the connection was opened in autocommit
        # mode (make_engine), so pysqlite opens no deferred ones of its own.
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "secure_delete=ON",
            "synchronous=NORMAL",
            # The checkpointer's thread checkpoints; a commit only past this backstop.
            f"wal_autocheckpoint={sqlite_driver.Checkpointer.BACKSTOP_PAGES}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A unit of work starts as a reader: under WAL it reads its own snapshot and neither
        # waits for the writer nor holds it up.
        connection.exec_driver_sql("BEGIN")

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before_execute(
        connection: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        if not connection.info.get(_WRITER) and _writes(statement, context):
            _become_writer(connection, writer)

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Returned to the pool after its commit or rollback: the turn passes on.
        record.info.pop(_WRITER_SINCE, None)
        if record.info.pop(_WRITER, False):
            writer.release()

    @event.listens_for(engine.sync_engine.pool, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, record: ConnectionPoolEntry, _error: Any) -> None:
        if record.info.pop(_WRITER, False):
            writer.release()


_WRITER = "rapport_writer"
_WRITER_SINCE = "rapport_writer_since"
_TRANSACTION_CONTROL = ("begin", "commit", "rollback", "release", "end")


def _writes(statement: str, context: ExecutionContext | None) -> bool:
    """Tell whether a statement needs SQLite's writer: it changes data, opens a savepoint,
    or locks what it reads (`SELECT ... FOR UPDATE`, which SQLite does not spell)."""
    if statement.lstrip()[:9].lower().startswith(_TRANSACTION_CONTROL):
        return False
    if sqlite_driver.reads_only(statement):
        compiled = getattr(context, "compiled", None)
        return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None
    return True


def _become_writer(connection: Connection, writer: WriterTurn) -> None:
    """Wait for the writer's turn, then trade the read transaction for a write one.

    The reads so far ended with their snapshot; later statements see every committed
    write, as on PostgreSQL's READ COMMITTED. Reads a write depends on lock first
    (`with_for_update()` or `take_writer`), so they run inside the write transaction."""
    await_only(writer.acquire(background=_background.get()))
    connection.info[_WRITER] = True
    connection.info[_WRITER_SINCE] = time.perf_counter()
    driver = cast(sqlite_driver.Connection, connection.connection.driver_connection)
    try:
        await_only(driver.begin_writing())
    except BaseException:
        connection.info.pop(_WRITER, None)
        writer.release()
        raise


def dialect_of(session: AsyncSession) -> str:
    """Name the database a session talks to: "sqlite" or "postgresql"."""
    return session.bind.dialect.name if session.bind is not None else "sqlite"


async def take_writer(session: AsyncSession) -> None:
    """Make this unit of work SQLite's writer now, before reads that later writes depend on
    (on PostgreSQL, row locks and advisory locks do that job: nothing happens here)."""
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        await connection.run_sync(_run_as_writer)


async def lock_key(session: AsyncSession, key: str) -> None:
    """Make this unit of work the only one holding `key` until it ends, for checks that later
    writes depend on (a count, a name still free): an advisory lock on PostgreSQL, the writer
    on SQLite."""
    if dialect_of(session) == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    else:
        await take_writer(session)


def _run_as_writer(connection: Connection) -> None:
    # Opening a savepoint counts as writing (see _writes); releasing it changes nothing.
    if not connection.info.get(_WRITER):
        connection.exec_driver_sql("SAVEPOINT rapport_take_writer")
        connection.exec_driver_sql("RELEASE SAVEPOINT rapport_take_writer")


async def writer_since(session: AsyncSession) -> float | None:
    """When (`time.perf_counter()`) this unit of work became SQLite's writer; None while it
    is not (and always on PostgreSQL)."""
    connection = await session.connection()
    if not connection.info.get(_WRITER):
        return None
    since = connection.info.get(_WRITER_SINCE)
    return since if isinstance(since, float) else None


class WriterTurn:
    """SQLite's one writer, handed out in this process one unit of work at a time.

    Waiting here (FIFO, no polling) beats SQLite's busy handler, which sleeps and retries.
    Interactive work (requests) goes before background work (jobs, imports), but never
    more than `INTERACTIVE_STREAK` times in a row while background work waits, so a busy
    live path cannot starve processing."""

    INTERACTIVE_STREAK = 4

    def __init__(self) -> None:
        self._held = False
        self._streak = 0
        self._waiting: dict[bool, deque[asyncio.Future[None]]] = {False: deque(), True: deque()}

    async def acquire(self, *, background: bool) -> None:
        """Wait for the turn."""
        if not self._held:
            self._held = True
            return
        future = asyncio.get_running_loop().create_future()
        self._waiting[background].append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the turn arrived as we were cancelled: pass it on
            elif future in self._waiting[background]:
                self._waiting[background].remove(future)
            raise

    def release(self) -> None:
        """Hand the turn to the next waiting unit of work, or free it."""
        for background in self._order():
            queue = self._waiting[background]
            while queue:
                future = queue.popleft()
                if not future.done():
                    self._streak = 0 if background else self._streak + 1
                    future.set_result(None)
                    return
        self._held = False
        self._streak = 0

    def _order(self) -> tuple[bool, bool]:
        if self._streak >= self.INTERACTIVE_STREAK and self._waiting[True]:
            return (True, False)
        return (False, True)


_background: ContextVar[bool] = ContextVar("rapport_background_writer", default=False)


@contextmanager
def background_work(*, bounded: bool = False) -> Iterator[None]:
    """Mark the units of work opened inside as background: they yield the writer to
    interactive ones (see WriterTurn), and on SQLite their statements run on the
    connections' threads, never holding the event loop (see `core.sqlite_driver`).

    `bounded`: every statement inside touches a bounded number of rows (a chunk's worth:
    a few milliseconds at most), so on SQLite they run on the event loop as the live path's
    do (reads still move to the thread past their budget; `executemany` and commits go
    there anyway). A trip to the thread costs more than such a statement whenever the loop
    is busy: it waits for the loop and for Python's lock. Measured on event processing
    (bench/live.py, idle scenario): the writer held p50 16-19 ms a chunk on the thread,
    8-9 ms inline (docs/architecture.md has the backlog figures)."""
    token = _background.set(True)
    try:
        with sqlite_driver.on_thread(not bounded), sqlite_driver.commits_on_thread():
            yield
    finally:
        _background.reset(token)


@contextmanager
def unbounded_statements() -> Iterator[None]:
    """Inside `background_work(bounded=True)`, a stretch whose statements may touch any
    number of rows, or that runs many of them (walking the identity graph, a merge): on
    SQLite they go back to the connections' threads, as other background work's do, so the
    event loop turns between them. Outside background work nothing changes."""
    if not _background.get():
        yield
        return
    with sqlite_driver.on_thread():
        yield


def _sqlite_path(url: str) -> str:
    """The file a SQLite URL names, the same whatever the working directory."""
    path = make_url(url).database or ":memory:"
    return path if path == ":memory:" else str(Path(path).resolve())


def make_engine(
    url: str,
    *,
    pool: bool = True,
    explicit_transactions: bool = False,
    ping_after_idle: float | None = None,
) -> AsyncEngine:
    """Create the async engine for `url`.

    SQLite connections are `core.sqlite_driver`'s (quick statements on the event loop,
    long ones on the connection's thread). With `explicit_transactions` they open no
    transaction of their own, for a caller that begins each one (`Database`); otherwise
    pysqlite's deferred transactions apply, as they do for migrations. `ping_after_idle`:
    see `_check_connections_out` (default: RAPPORT_DATABASE_PING_AFTER_IDLE, 30 s)."""
    kwargs: dict[str, Any] = {}
    parsed = make_url(url)
    asyncpg = parsed.get_driver_name() == "asyncpg"
    if parsed.get_backend_name() == "sqlite":
        if parsed.query:
            options = ", ".join(sorted(parsed.query))
            raise ValueError(f"SQLite database URLs take no options (this one has: {options})")
        kwargs["async_creator"] = partial(
            sqlite_driver.connect, _sqlite_path(url), autocommit=explicit_transactions
        )
    if not pool:
        kwargs["poolclass"] = NullPool
    elif url.startswith("postgresql"):
        # Last in, first out: the connections a steady load needs stay warm (not idle long
        # enough to be pinged), the rest wait in the pool. Only asyncpg tells whether the
        # server closed a connection (`_check_connections_out`); other drivers pre-ping.
        kwargs.update(pool_size=10, max_overflow=10, pool_use_lifo=True)
        kwargs["pool_pre_ping"] = not asyncpg
    else:
        # Readers each have a connection of their own (WAL); one of them at a time writes.
        kwargs.update(pool_size=8, max_overflow=24)
    engine = create_async_engine(url, **kwargs)
    if pool and asyncpg:
        if ping_after_idle is None:
            from rapport.config import get_settings

            ping_after_idle = get_settings().database_ping_after_idle
        _check_connections_out(engine, ping_after_idle)
    return engine


_IDLE_SINCE = "rapport_idle_since"


def _seen_closed(record: ConnectionPoolEntry) -> bool:
    """Tell whether the driver has seen the server close the connection (no round trip)."""
    driver = record.driver_connection
    return driver is None or bool(driver.is_closed())


def _check_connections_out(engine: AsyncEngine, ping_after_idle: float) -> None:
    """Hand out only live PostgreSQL connections, without a round trip on a busy pool.

    SQLAlchemy's `pool_pre_ping` pings every checkout of a connection used before: with
    asyncpg that is BEGIN, a query and ROLLBACK, three round trips before every unit of work
    (as many as storing a chat message's own statements, each a wake-up of the server's
    process). Here a checkout asks the driver whether the server has closed the connection
    (a restart, a terminated backend or an idle timeout closes the socket, which the event
    loop sees), and pings only a connection idle for `ping_after_idle` seconds, where a link
    may have died without a word. A closed connection is replaced; a failed ping replaces
    every connection as old as it, as a failed pre-ping does.

    What this does not see: a link that died silently less than `ping_after_idle` ago (the
    database host rebooted, a virtual IP or a proxy failed over, a firewall forgot the
    connection). Each unit of work that meets such a connection fails once, and the pool
    replaces it. Deployments where that happens set RAPPORT_DATABASE_PING_AFTER_IDLE=0,
    which pings every connection used before, as `pool_pre_ping` did."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _idle(_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.time()  # wall time: a suspended host's idle counts

    @event.listens_for(pool, "checkout")
    def _live(connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if _seen_closed(record):
            raise DisconnectionError("the server closed the connection")
        if idle_since is not None and time.time() - idle_since >= ping_after_idle:
            try:
                connection.ping()
            except Exception as error:
                raise InvalidatePoolError(f"ping failed: {type(error).__name__}") from error


class Database:
    """An engine plus the session factory that every request and job uses."""

    def __init__(
        self, url: str, *, pool: bool = True, ping_after_idle: float | None = None
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url, pool=pool, explicit_transactions=True, ping_after_idle=ping_after_idle
        )
        self.writer = WriterTurn()
        if url.startswith("sqlite"):
            self.sqlite_file = _sqlite_path(url)
            _configure_sqlite(self.engine, self.writer)

    @property
    def is_postgres(self) -> bool:
        """Tell whether this database is PostgreSQL."""
        return self.url.startswith("postgresql")

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """Yield one unit of work on this database (see `unit_of_work`)."""
        return unit_of_work(self.engine)

    async def dispose(self) -> None:
        """Close every pooled connection (on SQLite the last one folds the WAL in: the
        checkpointer lets go of the file first)."""
        if not self.is_postgres:
            await asyncio.to_thread(sqlite_driver.checkpointer.forget, self.sqlite_file)
        await self.engine.dispose()


@asynccontextmanager
async def unit_of_work(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """Yield one unit of work: commit on success, roll back on error, then run the hooks
    registered with `after_commit`. Requests take theirs from `Database.session`; work that
    runs after a commit or between network calls (the assistant's turn, a delivery's
    outcome) opens its own here, never holding one across the wait.

    On SQLite it reads without waiting for anyone and holds the writer only from its
    first write to its commit.

    The session is closed here, not by its own `async with`: SQLAlchemy closes that in
    a task of its own behind a shield, two turns of the event loop, each possibly behind
    another task's slice (a chat message's pushes waited 8 ms at p90 for it on a busy
    server; the assistant's reply, 26 ms at p95 with 200 open conversations). Awaited
    directly, a close costs no turn unless it waits on the database. A close interrupted by
    cancellation still returns its connection: the pool discards a connection whose reset
    did not finish."""
    session = AsyncSession(engine, expire_on_commit=False)
    try:
        try:
            yield session
            await _commit(session)
        except RapportError as error:
            await (session.commit() if error.keeps_changes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        hooks = session.info.pop("after_commit", [])
    finally:
        await session.close()
    await _run_hooks(hooks)


async def _run_hooks(hooks: list[AfterCommit]) -> None:
    """Run each after-commit hook; one that fails is logged and the others still run. The
    unit of work has committed: its caller must not be told it failed (a request would
    answer 500 for a change that was made, a job batch would run its committed jobs again)."""
    for hook in hooks:
        try:
            await hook()
        except Exception:
            logger.exception("after-commit step failed", extra={"hook": _name(hook)})


def _name(hook: AfterCommit) -> str:
    return str(getattr(hook, "__qualname__", None) or type(hook).__qualname__)


class CommitOutcomeUnknown(Exception):
    """The connection was lost during COMMIT: the server may or may not have committed, so
    the caller must not be told to simply try again (a request answers 500, a job is rerun,
    which its at-least-once contract allows)."""


async def _commit(session: AsyncSession) -> None:
    try:
        await session.commit()
    except DBAPIError as error:
        if error.connection_invalidated:
            raise CommitOutcomeUnknown("the database connection was lost during commit") from error
        raise


def after_commit(session: AsyncSession, hook: AfterCommit, *, once: bool = False) -> None:
    """Run `hook` once the session's transaction has committed (never after a rollback).
    `once`: not if an equal hook is already waiting for that commit."""
    hooks = session.info.setdefault("after_commit", [])
    if not (once and hook in hooks):
        hooks.append(hook)
