"""Preparing a request's calls (inflate, parse, check, seal) before any unit of work opens:
in the server process, or for large bodies in preparation processes."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapport.core.crypto import configure_keyring
from rapport.events.enums import CallType
from rapport.events.rows import encode_time_for, event_rows
from rapport.events.wire import (
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    Rejection,
    decompress,
    parse_batch,
    parse_single,
)

# Bodies from this size up go to a preparation process (a 500-call batch is ~150 KB).
POOL_MIN_BYTES = 16 * 1024
# Preparation processes that may die within a minute before the server stops respawning them.
MAX_DEATHS_A_MINUTE = 3
# How often a preparation process checks that the server that started it is still there.
PARENT_CHECK_SECONDS = 0.5

logger = logging.getLogger("rapport.events")


@dataclass(frozen=True)
class Prepared:
    """A request's calls, checked and sealed: event-store rows without their sender columns
    (EVENT_COLUMNS after SENDER_COLUMNS), the calls refused and the body's own write key."""

    rows: list[tuple[Any, ...]]
    rejected: list[Rejection]
    write_key: str | None


def prepare(
    body: bytes,
    content_encoding: str,
    call_type: CallType | None,
    received_at: datetime,
    dialect: str,
) -> Prepared:
    """Inflate, parse, check and seal one request's calls: pure CPU work, no I/O, so it runs
    in the server process or, for large bodies, in a preparation process (see CallPreparer)."""
    limit = MAX_BATCH_BYTES if call_type is None else MAX_EVENT_BYTES
    plain = decompress(body, content_encoding, limit)
    if call_type is None:
        parsed = parse_batch(plain, received_at)
    else:
        parsed = parse_single(plain, call_type, received_at)
    rows = event_rows(parsed.calls, received_at, encode_time_for(dialect))
    return Prepared(rows, parsed.rejected, parsed.write_key)


class CallPreparer:
    """Runs `prepare` in the server process, or for large bodies in preparation processes.

    A server process runs its Python under one lock (the GIL): parsing and sealing a batch of
    500 calls would compete with the database driver binding the previous batch's rows.
    Preparation processes have their own GIL and CPU, leaving the server's event loop to HTTP,
    the INSERT and the commit. Small bodies (one call from a browser) stay inline, where a
    round trip to another process would cost more than the work."""

    def __init__(self, processes: int = 0) -> None:
        self.processes = processes
        self._masters: list[bytes] = []
        self._pool: ProcessPoolExecutor | None = None
        self._deaths: list[float] = []

    def start(self, masters: list[bytes]) -> None:
        """Start the preparation processes (none when `processes` is 0)."""
        self._masters = masters
        if self.processes > 0:
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_preparation_process,
                initargs=(masters, os.getpid()),
            )
            for _ in range(self.processes):
                self._pool.submit(int)  # spawn them now, not on the first batch

    def stop(self) -> None:
        """Stop the preparation processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def prepare(
        self,
        body: bytes,
        content_encoding: str,
        call_type: CallType | None,
        received_at: datetime,
        dialect: str,
    ) -> Prepared:
        """Prepare a request's calls where it is cheapest."""
        arguments = (body, content_encoding, call_type, received_at, dialect)
        pool = self._pool
        if pool is None or len(body) < POOL_MIN_BYTES:
            return prepare(*arguments)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, prepare, *arguments)
        except BrokenProcessPool:
            # A preparation process died (killed, out of memory): start afresh, lose nothing.
            if self._pool is pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                self._restart()
            return prepare(*arguments)

    def _restart(self) -> None:
        """Start fresh preparation processes, unless they keep dying: then prepare in the
        server process from now on rather than respawn on every request."""
        now = time.monotonic()
        self._deaths = [moment for moment in self._deaths if now - moment < 60] + [now]
        if len(self._deaths) > MAX_DEATHS_A_MINUTE:
            logger.error("preparation processes keep dying; preparing in the server process")
            return
        logger.warning("preparation process died; restarting the pool")
        self.start(self._masters)


def _start_preparation_process(masters: list[bytes], parent: int) -> None:
    """Set up a preparation process: the server's key ring; Ctrl-C is the server's to handle;
    and a watchdog, so the process ends with its server even when that is killed (-9)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_keyring(masters)
    threading.Thread(
        target=_exit_when_orphaned, args=(parent,), name="parent-watchdog", daemon=True
    ).start()


def _exit_when_orphaned(parent: int) -> None:
    """End this process once its parent is gone (re-parented, it sees another parent PID, also
    when the server died before this process started); else it waits on its pipe forever."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)
