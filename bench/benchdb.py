"""Throwaway PostgreSQL databases for the benchmarks."""

from __future__ import annotations

import uuid

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
