"""The SQLite database and its directory are created readable by their owner only."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from rapport.config import Settings
from rapport.core.db import Database
from rapport.db.migrate import upgrade


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The common default umask, under which files come out world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_upgrade_creates_an_owner_only_directory_and_database(
    tmp_path: Path, permissive_umask: None
) -> None:
    upgrade(f"sqlite+aiosqlite:///{tmp_path}/var/rapport.db")
    assert (_mode(tmp_path / "var"), _mode(tmp_path / "var" / "rapport.db")) == (0o700, 0o600)


async def test_write_ahead_log_files_are_owner_only(tmp_path: Path, permissive_umask: None) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/var/rapport.db"
    await asyncio.to_thread(upgrade, url)  # Alembic runs its own event loop
    database = Database(url)
    try:
        async with database.session() as session:
            await session.execute(text("CREATE TABLE probe (id INTEGER)"))
            modes = [
                _mode(tmp_path / "var" / name) for name in ("rapport.db-wal", "rapport.db-shm")
            ]
    finally:
        await database.dispose()
    assert modes == [0o600, 0o600]


def test_upgrade_tightens_a_database_an_earlier_release_left_readable(
    tmp_path: Path, permissive_umask: None
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/rapport.db"
    upgrade(url)
    (tmp_path / "rapport.db").chmod(0o644)
    upgrade(url)
    assert _mode(tmp_path / "rapport.db") == 0o600


def test_local_secret_key_directory_is_owner_only(tmp_path: Path, permissive_umask: None) -> None:
    Settings(env="development", data_dir=tmp_path / "var").secret_keys()
    assert (_mode(tmp_path / "var"), _mode(tmp_path / "var" / "secret.key")) == (0o700, 0o600)
