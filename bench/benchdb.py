"""Throwaway PostgreSQL databases for the benchmarks."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Callable

import asyncpg


async def fresh_postgres(admin_url: str) -> tuple[str, str]:
    """Create an empty database next to `admin_url`'s; return its url and name."""
    name = f"rapport_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin_url.replace("+asyncpg", ""))
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


async def drop_postgres(admin_url: str, name: str) -> None:
    """Drop a database made by `fresh_postgres`."""
    connection = await asyncpg.connect(admin_url.replace("+asyncpg", ""))
    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await connection.close()


def on_each_backend(
    measure: Callable[[str, str, str], None], postgres: str | None, skip_sqlite: bool = False
) -> None:
    """Call `measure(label, url, directory)` on a fresh SQLite file and, when an admin URL is
    given, on a fresh PostgreSQL database (dropped afterwards)."""
    with tempfile.TemporaryDirectory() as directory:
        if not skip_sqlite:
            measure("sqlite", f"sqlite+aiosqlite:///{directory}/bench.db", directory)
        if not postgres:
            print("postgresql: skipped (pass --postgres URL or set RAPPORT_TEST_DATABASE_URL)")
            return
        url, name = asyncio.run(fresh_postgres(postgres))
        try:
            measure("postgresql", url, directory)
        finally:
            asyncio.run(drop_postgres(postgres, name))
