"""What a unit of work costs through Rapport's SQLite driver against aiosqlite's.

Run alone: `.venv/bin/python bench/sqlite_driver.py [--units N] [--rounds R]`.

Both engines open the same SQLite file with the same settings (WAL, autocommit mode with an
explicit BEGIN, as `core.db` runs them) and run the same units of work through an ORM
session: read a row by its key, read a page of 20 rows, insert a row, update one, commit:
a small request's shape. The baseline is SQLAlchemy's `sqlite+aiosqlite` as it comes (four
trips to the connection's thread a statement); Rapport's driver (`core.sqlite_driver`)
makes one. Printed per unit of work: CPU time (every thread: process_time) and wall time,
best of R rounds for each, run alternately, and the ratio of Rapport's to the baseline's.
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


async def units(engine: AsyncEngine, count: int, start: int) -> tuple[float, float]:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    cpu, wall = time.process_time(), time.perf_counter()
    for number in range(start, start + count):
        async with sessions() as session:
            await session.get(Note, 1 + number % 500)
            await session.scalars(select(Note).where(Note.shelf == number % 25).limit(20))
            session.add(Note(shelf=number % 25, body=f"note {number}"))
            await session.flush()
            row = await session.get(Note, 1 + (number * 7) % 500)
            assert row is not None
            row.body = f"changed {number}"
            await session.commit()
    return (time.process_time() - cpu) / count, (time.perf_counter() - wall) / count


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
        await units(baseline, 50, 0)  # warm both: statement caches, pools
        await units(ours, 50, 0)
        best: dict[str, tuple[float, float]] = {}
        for round_number in range(rounds):
            for name, engine in (("aiosqlite (baseline)", baseline), ("rapport", ours)):
                cpu, wall = await units(engine, count, (round_number + 1) * count)
                was = best.get(name, (cpu, wall))
                best[name] = (min(was[0], cpu), min(was[1], wall))
        await baseline.dispose()
        await ours.dispose()
    print(f"{count} units of work x {rounds} rounds, best round (get, page, insert, update)")
    for name, (cpu, wall) in best.items():
        print(f"{name:<22} cpu {cpu * 1000:6.3f} ms  wall {wall * 1000:6.3f} ms a unit of work")
    base_cpu, base_wall = best["aiosqlite (baseline)"]
    cpu, wall = best["rapport"]
    print(f"ratio rapport / baseline: cpu {cpu / base_cpu:.2f}  wall {wall / base_wall:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.units, arguments.rounds))
