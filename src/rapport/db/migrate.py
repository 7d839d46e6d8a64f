"""Run Alembic migrations from code (the CLI and the test suite)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config

from rapport.config import private_directory

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Return an Alembic config pointing at our migrations and `database_url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply every migration up to `revision`."""
    database_file = sqlite_file(database_url)
    if database_file is None:
        command.upgrade(alembic_config(database_url), revision)
        return
    private_directory(database_file.parent)
    with _owner_only():
        command.upgrade(alembic_config(database_url), revision)
    # Files made by earlier releases (0644) are tightened too; SQLite gives the -wal and
    # -shm files it creates later the database file's own mode.
    for path in _with_companions(database_file):
        if path.exists():
            path.chmod(0o600)


def sqlite_file(database_url: str) -> Path | None:
    """Return the file of a SQLite database url, or None (PostgreSQL, in memory)."""
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.split("///", 1)[-1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def _with_companions(database_file: Path) -> list[Path]:
    return [database_file.with_name(database_file.name + tail) for tail in ("", "-wal", "-shm")]


@contextmanager
def _owner_only() -> Iterator[None]:
    # SQLite creates the database (and its -wal and -shm) with 0666 less the umask.
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)
