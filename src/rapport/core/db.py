"""Database engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, MetaData, String, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from rapport.core.clock import as_utc, utcnow
from rapport.core.ids import new_id
from rapport.errors import RapportError

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


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun explicitly below; autocommit mode stops pysqlite from
        # opening its own deferred ones.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "secure_delete=ON",
            "synchronous=NORMAL",
            "busy_timeout=10000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a transaction that read first never
        # fails with SQLITE_BUSY when it later writes (the Rails 8 default, for the same reason).
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, pool: bool = True) -> AsyncEngine:
    """Create the async engine for `url`, with SQLite tuned for durability and safety."""
    kwargs: dict[str, Any] = {}
    if not pool:
        kwargs["poolclass"] = NullPool
    elif url.startswith("postgresql"):
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _configure_sqlite(engine)
    return engine


class Database:
    """An engine plus the session factory that every request and job uses."""

    def __init__(self, url: str, *, pool: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url, pool=pool)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time; queueing units of work here (FIFO, no polling)
        # beats SQLite's busy handler, which sleeps and retries.
        self._sqlite_turn = asyncio.Lock() if url.startswith("sqlite") else None

    @property
    def is_postgres(self) -> bool:
        """Tell whether this database is PostgreSQL."""
        return self.url.startswith("postgresql")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Yield one unit of work: commit on success, roll back on error, then run hooks."""
        async with self._turn(), self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except RapportError as error:
                await (session.commit() if error.keeps_changes else session.rollback())
                raise
            except BaseException:
                await session.rollback()
                raise
            hooks = session.info.pop("after_commit", [])
        # Hooks run after the turn is released, so they may open sessions of their own.
        for hook in hooks:
            await hook()

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self._sqlite_turn is None:
            yield
            return
        async with self._sqlite_turn:
            yield

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def after_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run `hook` once the session's transaction has committed (never after a rollback)."""
    session.info.setdefault("after_commit", []).append(hook)
