"""`rapport worker` beside `--no-worker` servers: what runs beside the jobs (the IMAP poller)
runs in the worker, even when the shared environment turns the in-process worker off."""

from __future__ import annotations

from rapport.cli.server import worker_parts
from rapport.config import Settings
from rapport.support.background import ImapPolling


async def test_the_imap_poller_runs_in_a_standalone_worker(settings: Settings) -> None:
    serving_apart = settings.model_copy(update={"run_worker": False})
    parts = worker_parts(serving_apart)
    pollers = [part for part in parts if isinstance(part, ImapPolling)]
    assert len(pollers) == 1
    for part in parts:
        part.start()
    try:
        assert pollers[0].running
    finally:
        for part in reversed(parts):
            part.stop()
    assert not pollers[0].running
