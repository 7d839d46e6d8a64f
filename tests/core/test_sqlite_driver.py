"""Rapport's SQLite driver: live statements on the event loop, long ones and background
work on the connection's thread (one trip a statement), errors as sqlite3 raises them,
transactions as the caller asks, and a thread that ends with its connection."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import IntegrityError

from rapport.core import sqlite_driver
from rapport.core.db import Database, background_work, make_engine, unbounded_statements

SLOW = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
    "SELECT count(*) FROM n"
)


class _Trips:
    """Counts the calls a driver connection sends to its thread."""

    def __init__(self, driver: sqlite_driver.Connection) -> None:
        self.calls: list[Any] = []
        self._driver = driver
        self._run = driver.lane.run

        async def counted(call: Any, *args: Any) -> Any:
            self.calls.append(call)
            return await self._run(call, *args)

        driver.lane.run = counted  # type: ignore[method-assign]

    def __len__(self) -> int:
        return len(self.calls)


async def _driver(session: Any) -> sqlite_driver.Connection:
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, sqlite_driver.Connection)
    return driver


def session_commit(trips: _Trips) -> Any:
    return trips._driver.raw.commit


@pytest.fixture
async def notes(tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite database of the test's own, with a `notes` table."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    try:
        async with database.session() as session:
            await session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        yield database
    finally:
        await database.dispose()


async def test_live_statements_run_on_the_event_loop(notes: Database) -> None:
    async with notes.session() as session:
        trips = _Trips(await _driver(session))
        rows = (await session.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
        assert rows == [(1,), (2,)]
        await session.execute(text("INSERT INTO notes (body) VALUES ('a'), ('b')"))
    # The commit too: it only appends to the WAL (the checkpointer's thread checkpoints).
    assert trips.calls == []
    async with notes.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 2


async def test_commits_leave_checkpoints_to_the_checkpointer(notes: Database) -> None:
    path = Path(make_url(notes.url).database or "")
    async with notes.session() as session:
        threshold = await session.scalar(text("PRAGMA wal_autocheckpoint"))
        assert threshold == sqlite_driver.Checkpointer.BACKSTOP_PAGES
    before = path.stat().st_size
    done = sqlite_driver.checkpointer.checkpoints
    for _ in range(4):  # about 2,000 pages: past SQLite's own threshold of 1,000
        async with notes.session() as session:
            trips = _Trips(await _driver(session))
            await session.execute(
                text("INSERT INTO notes (body) VALUES (:body)"),
                [{"body": f"{n:08d}" * 256} for n in range(1000)],
            )
        assert session_commit(trips) not in trips.calls

    # In WAL mode only a checkpoint writes to the database file itself.
    def checkpointed() -> bool:
        counted = sqlite_driver.checkpointer.checkpoints > done
        return counted and path.stat().st_size >= before + 4000 * 2048

    deadline = time.monotonic() + 10
    while not checkpointed() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert checkpointed()


async def test_a_wal_written_without_pause_still_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Commits land during every pass, so the checkpointer never copies the whole WAL at the
    # moment a writer begins; the commit past the backstop does, and the WAL starts over.
    monkeypatch.setattr(sqlite_driver.Checkpointer, "BACKSTOP_PAGES", 500)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}")
    wal = tmp_path / "busy.db-wal"
    written = 0
    try:
        async with database.session() as session:
            await session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            async with database.session() as session:
                row = {"body": "x" * 3000}
                await session.execute(text("INSERT INTO notes (body) VALUES (:body)"), row)
            written += 1
            await asyncio.sleep(0.001)
        frames = wal.stat().st_size // 4096
    finally:
        await database.dispose()
    assert written >= 500
    assert frames < written, (frames, written)  # about three frames a commit, had it grown


async def test_outside_wal_mode_a_commit_goes_to_the_thread(tmp_path: Path) -> None:
    # Without WAL (a filesystem that cannot share memory) a commit waits for readers: never
    # on the loop.
    for mode, trips_wanted in (("wal", 0), ("delete", 1)):
        connection = await sqlite_driver.connect(str(tmp_path / f"{mode}.db"), autocommit=True)
        try:
            await connection.call(connection.raw.execute, f"PRAGMA journal_mode={mode}")
            await connection.call(connection.raw.execute, "CREATE TABLE t (v INTEGER)")
            await connection.call(connection.raw.execute, "BEGIN")  # as core.db's units do
            await connection.begin_writing()
            await (await connection.cursor().execute("INSERT INTO t VALUES (1)")).close()
            trips = _Trips(connection)
            await connection.commit()
            assert len(trips) == trips_wanted, mode
        finally:
            await connection.close()


def test_the_checkpointer_creates_no_database(tmp_path: Path) -> None:
    assert not sqlite_driver.checkpointer.checkpoint(str(tmp_path / "gone.db"))
    assert not (tmp_path / "gone.db").exists()


async def test_background_statements_take_one_trip_each_to_the_thread(notes: Database) -> None:
    with background_work():
        async with notes.session() as session:
            trips = _Trips(await _driver(session))
            rows = (await session.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
            assert rows == [(1,), (2,)]
            assert len(trips) == 1
            await session.execute(text("INSERT INTO notes (body) VALUES ('a'), ('b')"))
            # The first write trades the read transaction for a write one (COMMIT and
            # BEGIN IMMEDIATE, in one trip), then the insert itself.
            assert len(trips) == 3
    async with notes.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 2


async def test_a_read_transaction_ends_on_the_loop_even_in_background_work(
    notes: Database,
) -> None:
    with background_work():
        async with notes.session() as session:
            trips = _Trips(await _driver(session))
            assert await session.scalar(text("SELECT count(*) FROM notes")) == 0
            assert len(trips) == 1  # background work's statement: on the thread
    # Its commit ends a read (nothing to hand on), and the pool's rollback when the
    # connection comes back finds nothing to undo: neither is worth a trip.
    assert len(trips) == 1


async def test_bounded_background_statements_run_on_the_event_loop(notes: Database) -> None:
    with background_work():
        with background_work(bounded=True):
            async with notes.session() as session:
                trips = _Trips(await _driver(session))
                rows = (await session.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
                assert rows == [(1,), (2,)]
                await session.execute(text("INSERT INTO notes (body) VALUES ('a'), ('b')"))
                assert len(trips) == 0
                with unbounded_statements():  # a graph walk: back on the thread
                    await session.execute(text("INSERT INTO notes (body) VALUES ('c')"))
                    assert len(trips) == 1
                await session.execute(text("INSERT INTO notes (body) VALUES ('d')"))
                assert len(trips) == 1
            # Unlike the live path's, the commit goes to the thread: there it overlaps
            # the loop's next piece of background work.
            assert trips.calls[-1] == session_commit(trips)
        async with notes.session() as session:  # the enclosing background work
            trips = _Trips(await _driver(session))
            assert await session.scalar(text("SELECT count(*) FROM notes")) == 4
            assert len(trips) == 1


async def test_unbounded_statements_change_nothing_on_the_live_path(notes: Database) -> None:
    async with notes.session() as session:
        trips = _Trips(await _driver(session))
        with unbounded_statements():
            await session.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        assert len(trips) == 0


async def test_a_read_past_its_budget_finishes_on_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "INLINE_BUDGET", 0.0005)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'budget.db'}")
    try:
        async with database.session() as session:
            trips = _Trips(await _driver(session))
            assert await session.scalar(text(SLOW)) == 3_000_000
            assert len(trips) == 1  # interrupted on the loop, run again on the thread
            assert await session.scalar(text("SELECT 7")) == 7
            assert len(trips) == 1  # the next quick one is back on the loop
    finally:
        await database.dispose()


async def test_a_write_is_never_interrupted(
    notes: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupted write would roll back its whole transaction: writes have no budget."""
    monkeypatch.setattr(sqlite_driver, "INLINE_BUDGET", 0.0)
    async with notes.session() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('first')"))
        await session.execute(
            text(
                "INSERT INTO notes (body) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                "SELECT i + 1 FROM n WHERE i < 200000) SELECT 'x' FROM n"
            )
        )
    async with notes.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 200_001


async def test_waiting_for_another_process_lock_leaves_the_loop_free(notes: Database) -> None:
    path = make_url(notes.url).database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process writing
        gaps: list[float] = []

        async def tick() -> None:
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        ticker = asyncio.create_task(tick())

        async def write() -> None:
            async with notes.session() as session:
                await session.execute(text("INSERT INTO notes (body) VALUES ('waited')"))

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.4)
        assert not writing.done()
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 10)
        ticker.cancel()
        assert max(gaps) < 0.2  # the loop went on while the write waited
        async with notes.session() as session:
            assert await session.scalar(text("SELECT count(*) FROM notes")) == 1
    finally:
        other.close()


def test_sqlite_urls_take_no_options() -> None:
    with pytest.raises(ValueError, match=r"take no options.*mode"):
        make_engine("sqlite+aiosqlite:///rapport.db?mode=ro")


async def test_errors_are_sqlite3s_and_the_unit_of_work_rolls_back(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'errors.db'}")
    try:
        async with database.session() as session:
            await session.execute(text("CREATE TABLE tags (name TEXT PRIMARY KEY)"))
            await session.execute(text("INSERT INTO tags VALUES ('vip')"))
        with pytest.raises(IntegrityError) as caught:
            async with database.session() as session:
                await session.execute(text("INSERT INTO tags VALUES ('new')"))
                await session.execute(text("INSERT INTO tags VALUES ('vip')"))
        assert isinstance(caught.value.orig, sqlite3.IntegrityError)
        async with database.session() as session:
            names = (await session.scalars(text("SELECT name FROM tags"))).all()
        assert names == ["vip"]
    finally:
        await database.dispose()


async def test_without_explicit_transactions_writes_wait_for_commit(tmp_path: Path) -> None:
    """Migrations' engine: sqlite3's own deferred transactions, so a rollback undoes."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}", pool=False)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("CREATE TABLE steps (n INTEGER)"))
            await connection.commit()
            await connection.execute(text("INSERT INTO steps VALUES (1)"))
            await connection.rollback()
            assert await connection.scalar(text("SELECT count(*) FROM steps")) == 0
    finally:
        await engine.dispose()


async def test_a_caller_that_stops_waiting_leaves_the_connection_usable(tmp_path: Path) -> None:
    connection = await sqlite_driver.connect(str(tmp_path / "cancel.db"), autocommit=True)
    try:
        slow = asyncio.ensure_future(connection.cursor().execute(SLOW))
        await asyncio.sleep(0.01)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        cursor = await connection.cursor().execute("SELECT ?, ?", (1, "two"))
        assert await cursor.fetchall() == [(1, "two")]
    finally:
        await connection.close()


async def test_rows_are_read_one_by_one_or_in_pages(tmp_path: Path) -> None:
    connection = await sqlite_driver.connect(str(tmp_path / "pages.db"), autocommit=True)
    try:
        cursor = await connection.cursor().execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) "
            "SELECT i FROM n"
        )
        assert cursor.description[0][0] == "i"
        assert await cursor.fetchone() == (1,)
        assert await cursor.fetchmany(2) == [(2,), (3,)]
        assert await cursor.fetchall() == [(4,), (5,)]
        assert await cursor.fetchone() is None
        await connection.cursor().execute("CREATE TABLE t (v TEXT)")
        written = await connection.cursor().executemany(
            "INSERT INTO t VALUES (?)", [("a",), ("b",)]
        )
        assert written.rowcount == 2
        assert written.description is None
    finally:
        await connection.close()


async def _ended(thread: threading.Thread) -> bool:
    for _ in range(200):
        if not thread.is_alive():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_each_connection_has_a_thread_that_ends_with_it(tmp_path: Path) -> None:
    connection = await sqlite_driver.connect(str(tmp_path / "thread.db"), autocommit=True)
    thread = connection.lane._thread
    assert thread.is_alive()
    assert thread.name == "rapport-sqlite"
    await connection.close()
    await connection.close()  # twice is harmless
    assert await _ended(thread)
    with pytest.raises(sqlite3.ProgrammingError):
        connection.raw.execute("SELECT 1")


async def test_a_terminated_connection_closes_on_its_thread(tmp_path: Path) -> None:
    connection = await sqlite_driver.connect(str(tmp_path / "stop.db"), autocommit=True)
    thread = connection.lane._thread
    connection.stop()
    assert connection._connection is None
    assert await _ended(thread)
    with pytest.raises(sqlite3.ProgrammingError):
        connection.raw.execute("SELECT 1")


async def test_a_closed_connection_refuses_calls_at_once(tmp_path: Path) -> None:
    connection = await sqlite_driver.connect(str(tmp_path / "closed.db"), autocommit=True)
    await connection.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        await asyncio.wait_for(connection.cursor().execute("SELECT 1"), 5)
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        await asyncio.wait_for(connection.begin_writing(), 5)


async def test_a_connection_dropped_without_closing_ends_its_thread(tmp_path: Path) -> None:
    connection = await sqlite_driver.connect(str(tmp_path / "dropped.db"), autocommit=True)
    thread = connection.lane._thread
    del connection
    gc.collect()
    assert await _ended(thread)


async def test_an_isolation_level_can_be_set_per_connection(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'levels.db'}")
    try:
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("CREATE TABLE t (v INTEGER)"))
            raw = await connection.get_raw_connection()
            assert raw.driver_connection.isolation_level is None
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM t")) == 0
    finally:
        await engine.dispose()


async def test_a_relative_path_names_the_same_file_after_a_change_of_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite+aiosqlite:///relative.db")
    monkeypatch.chdir("/")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("CREATE TABLE t (v INTEGER)"))
            await connection.commit()
    finally:
        await engine.dispose()
    assert (tmp_path / "relative.db").exists()


def _write_then_await_a_checkpoint(url: str) -> None:
    async def go() -> bool:
        before = sqlite_driver.checkpointer.checkpoints
        database = Database(url)
        try:
            async with database.session() as session:
                await session.execute(text("INSERT INTO notes (body) VALUES ('child')"))
            deadline = time.monotonic() + 10
            while sqlite_driver.checkpointer.checkpoints == before:
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.05)
            return True
        finally:
            await database.dispose()

    os._exit(0 if asyncio.run(go()) else 1)


def test_a_forked_child_checkpoints_with_a_thread_of_its_own(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fork.db'}"

    async def parent() -> None:  # the parent's checkpointer thread is running
        database = Database(url)
        async with database.session() as session:
            await session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        await database.dispose()

    asyncio.run(parent())
    child = multiprocessing.get_context("fork").Process(
        target=_write_then_await_a_checkpoint, args=(url,)
    )
    child.start()
    child.join(30)
    assert child.exitcode == 0
