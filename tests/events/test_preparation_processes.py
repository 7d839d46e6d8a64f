"""Large batches are prepared in separate processes; the server survives one dying."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
from segment.analytics import Client
from sqlalchemy import func, select

from rapport.config import Settings
from rapport.core.db import Database
from rapport.events.models import Event
from rapport.events.preparation import POOL_MIN_BYTES
from tests.fixtures.identity import make_source, make_workspace
from tests.fixtures.server import serve


def _spawned_children() -> list[int]:
    """Return the pids of this process's children started by multiprocessing's spawn."""
    children = []
    for task in Path("/proc/self/task").iterdir():
        try:
            pids = (task / "children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            continue
        for pid in pids:
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # it exited
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    children.append(int(pid))
    return children


def _send(write_key: str, url: str, prefix: str, count: int) -> list[Exception]:
    errors: list[Exception] = []
    client = Client(
        write_key, host=url, on_error=lambda e, _: errors.append(e), max_retries=1, upload_size=500
    )
    for n in range(count):
        client.track(
            anonymous_id=f"anon-{n % 7}",
            event="Product Viewed",
            properties={"product_id": f"sku-{n}", "description": "x" * 200},
            message_id=f"{prefix}-{n:04d}",
        )
    client.flush()
    client.join()
    return errors


async def _stored(database: Database, prefix: str) -> int:
    async with database.session() as session:
        counted = select(func.count()).where(Event.message_id.startswith(prefix))
        return int((await session.execute(counted)).scalar_one())


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
async def test_large_batches_go_through_a_preparation_process_that_may_die(
    settings: Settings, database: Database, capfd: pytest.CaptureFixture[str]
) -> None:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    assert POOL_MIN_BYTES < 500 * 250  # the client sends batches large enough to go out
    with serve(settings.model_copy(update={"ingest_processes": 1})) as server:
        deadline = time.monotonic() + 30
        while not (children := _spawned_children()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(children) == 1
        assert _send(source.write_key, server.url, "before", 1200) == []
        assert await _stored(database, "before") == 1200

        os.kill(children[0], signal.SIGKILL)  # as the OOM killer would
        while children[0] in _spawned_children() and time.monotonic() < deadline + 30:
            await asyncio.sleep(0.05)
        capfd.readouterr()
        assert _send(source.write_key, server.url, "after", 1200) == []
        assert "preparation process died" in capfd.readouterr().err  # the path under test
        assert await _stored(database, "after") == 1200
        assert _spawned_children() not in ([], children)  # a fresh process took over
