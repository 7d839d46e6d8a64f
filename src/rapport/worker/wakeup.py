"""Wake workers of other processes on PostgreSQL: LISTEN for the NOTIFY an enqueue commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from rapport.core.db import Database
from rapport.core.jobs import JOBS_CHANNEL

logger = logging.getLogger("rapport.worker")


class JobListener:
    """One pooled PostgreSQL connection that LISTENs for enqueued jobs (nothing on SQLite,
    where a worker in the enqueuing process is woken directly)."""

    def __init__(self, database: Database, wake: Callable[[], None]) -> None:
        self.database = database
        self.wake = wake
        self._connection: AsyncConnection | None = None
        self._driver: Any = None

    async def ensure(self) -> None:
        """Listen, or listen again after the connection was lost; polling covers the gap."""
        if not self.database.is_postgres:
            return
        if self._driver is not None and not self._driver.is_closed():
            return
        await self.close()
        try:
            self._connection = await self.database.engine.connect()
            raw = await self._connection.get_raw_connection()
            self._driver = raw.driver_connection
            await self._driver.add_listener(JOBS_CHANNEL, self._notified)
        except Exception as error:
            logger.warning("cannot listen for jobs", extra={"error": type(error).__name__})
            await self.close()

    def _notified(self, *_notification: Any) -> None:
        self.wake()

    async def close(self) -> None:
        """Stop listening and give the connection back."""
        driver, connection = self._driver, self._connection
        self._driver = self._connection = None
        if driver is not None and not driver.is_closed():
            with suppress(Exception):
                await driver.remove_listener(JOBS_CHANNEL, self._notified)
        if connection is not None:
            with suppress(Exception):
                await connection.close()
