"""What a unit of work costs through Rapport's SQLite driver against aiosqlite's, on an idle
event loop and on a busy one.

Run alone: `.venv/bin/python bench/sqlite_driver.py [--units N] [--rounds R]`.

Every engine opens the same SQLite file with the same settings (WAL, autocommit mode with an
explicit BEGIN, as `core.db` runs them) and runs the same units of work through an ORM
session: read a row by its key, read a page of 20 rows, insert a row, update one, commit:
a small request's shape. The baseline is SQLAlchemy's `sqlite+aiosqlite` as it comes (four
trips to the connection's thread a statement). Rapport's driver (`core.sqlite_driver`) runs
a live unit of work's statements on the event loop, and a background one's (inside
`on_thread()`) on the connection's thread, one trip a statement: both are measured.
Printed per unit of work: CPU time (every thread: process_time) and wall time, best of R
rounds, run alternately, and each one's ratio to the baseline. Then the same units while
three other tasks keep the event loop busy (2 ms of Python work each between two awaits,
a busy server's loop): their p50 and p95 latency.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, String, event, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rapport.core.db import make_engine
from rapport.core.sqlite_driver import on_thread


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shelf: Mapped[int] = mapped_column(Integer, index=True)
    body: Mapped[str] = mapped_column(String(200))


def configure(engine: AsyncEngine, *, set_autocommit: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if set_autocommit:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


async def units(engine: AsyncEngine, count: int, start: int) -> list[float]:
    """Run `count` units of work; return each one's wall time in seconds."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    times = []
    for number in range(start, start + count):
        began = time.perf_counter()
        async with sessions() as session:
            await session.get(Note, 1 + number % 500)
            await session.scalars(select(Note).where(Note.shelf == number % 25).limit(20))
            session.add(Note(shelf=number % 25, body=f"note {number}"))
            await session.flush()
            row = await session.get(Note, 1 + (number * 7) % 500)
            assert row is not None
            row.body = f"changed {number}"
            await session.commit()
        times.append(time.perf_counter() - began)
    return times


async def timed(
    engine: AsyncEngine, count: int, start: int, background: bool
) -> tuple[float, float]:
    """CPU and wall time a unit of work."""
    cpu, wall = time.process_time(), time.perf_counter()
    if background:
        with on_thread():
            await units(engine, count, start)
    else:
        await units(engine, count, start)
    return (time.process_time() - cpu) / count, (time.perf_counter() - wall) / count


async def busy(stop: asyncio.Event) -> None:
    while not stop.is_set():
        began = time.perf_counter()
        while time.perf_counter() - began < 0.002:
            sum(range(200))
        await asyncio.sleep(0)


async def under_load(engine: AsyncEngine, count: int, background: bool) -> list[float]:
    stop = asyncio.Event()
    others = [asyncio.create_task(busy(stop)) for _ in range(3)]
    try:
        if background:
            with on_thread():
                return sorted(await units(engine, count, 10**6))
        return sorted(await units(engine, count, 10**6))
    finally:
        stop.set()
        await asyncio.gather(*others)


async def main(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        baseline = create_async_engine(url)
        configure(baseline, set_autocommit=True)
        ours = make_engine(url, explicit_transactions=True)
        configure(ours, set_autocommit=False)
        async with ours.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with async_sessionmaker(ours)() as session:
            session.add_all(Note(shelf=n % 25, body=f"seed {n}") for n in range(1, 501))
            await session.commit()
        ways = (
            ("aiosqlite (baseline)", baseline, False),
            ("rapport, live (loop)", ours, False),
            ("rapport, background", ours, True),
        )
        for _, engine, background in ways:
            await timed(engine, 50, 0, background)  # warm: statement caches, pools
        best: dict[str, tuple[float, float]] = {}
        for round_number in range(rounds):
            for name, engine, background in ways:
                cpu, wall = await timed(engine, count, (round_number + 1) * count, background)
                was = best.get(name, (cpu, wall))
                best[name] = (min(was[0], cpu), min(was[1], wall))
        loaded = {
            name: await under_load(engine, max(count // 5, 20), background)
            for name, engine, background in ways
        }
        await baseline.dispose()
        await ours.dispose()
    print(f"{count} units of work x {rounds} rounds, best round (get, page, insert, update)")
    base_cpu, base_wall = best["aiosqlite (baseline)"]
    for name, (cpu, wall) in best.items():
        print(
            f"{name:<22} cpu {cpu * 1000:6.3f} ms  wall {wall * 1000:6.3f} ms a unit of work"
            f"  ratio cpu {cpu / base_cpu:.2f} wall {wall / base_wall:.2f}"
        )
    print("the same units while three tasks keep the event loop busy:")
    base_p95 = loaded["aiosqlite (baseline)"][int(len(loaded["aiosqlite (baseline)"]) * 0.95)]
    for name, times in loaded.items():
        p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
        print(
            f"{name:<22} p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"
            f"  ratio p95 {p95 / base_p95:.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.units, arguments.rounds))
