"""What every command shares: settings, the database, running async code, console output."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.config import Settings, get_settings
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.domains import load_tasks
from rapport.errors import RapportError

T = TypeVar("T")
console = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)


def settings() -> Settings:
    """Return settings and install the key ring they define."""
    current = get_settings()
    configure_keyring(current.secret_keys())
    return current


def run(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work(database)` on the configured database; RapportErrors exit with code 1."""
    # A command that publishes a domain event must know its subscribers (a merge, say).
    load_tasks()

    async def main() -> T:
        database = Database(settings().database_url, pool=False)
        try:
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except RapportError as error:
        console.print(f"[red]error:[/red] {error.message}")
        raise SystemExit(1) from error
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        console.print(f"[red]error:[/red] {problems}")
        raise SystemExit(2) from error


@asynccontextmanager
async def unit_of_work(database: Database) -> AsyncIterator[AsyncSession]:
    """Open one committed-on-success session."""
    async with database.session() as session:
        yield session
