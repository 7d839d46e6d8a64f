"""`rapport serve` and `rapport worker`."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import signal

import typer
import uvicorn

from rapport.app import create_app
from rapport.cli.common import console, settings
from rapport.config import Settings
from rapport.core.collector import quiet_collector
from rapport.core.db import Database
from rapport.core.realtime import start_hub, stop_hub
from rapport.domains import BackgroundPart, background_parts
from rapport.worker.runner import Worker, load_tasks

MAX_OPEN_FILES = 1 << 20
# What runs beside the job worker, wherever it runs: `rapport serve` starts these with its
# in-process worker, so `rapport worker` starts them when serving is `--no-worker`.
WORKER_PARTS = ("imap_polling",)


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    worker: bool = typer.Option(True, help="Run the in-process job worker too."),
) -> None:
    """Serve Rapport (API, console, ingestion) with an in-process job worker."""
    current = settings().model_copy(update={"run_worker": worker})
    app = create_app(current)
    console.print(
        f"[bold green]Rapport[/bold green] on http://{host}:{port}/console "
        f"(API docs: http://{host}:{port}/docs) — database: {_describe(current.database_url)}"
    )
    proxies = current.forwarded_allow_ips
    _raise_open_file_limit()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=proxies is not None,
        forwarded_allow_ips=proxies,
        limit_concurrency=current.max_connections,
    )


def _raise_open_file_limit() -> None:
    """Let the server hold as many connections as the system allows: the soft limit is often
    1,024 open files, which a few idle clients exhaust."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def worker(
    concurrency: int = typer.Option(4, help="Jobs run at the same time by this process."),
    poll_seconds: float = typer.Option(
        1.0,
        min=0.05,
        help="How often to look for new jobs when none is announced (on SQLite nothing "
        "announces another process's jobs: a new job waits up to this long).",
    ),
) -> None:
    """Run a standalone job worker until interrupted (any number may run against PostgreSQL)."""
    load_tasks()
    current = settings()
    database = Database(current.database_url)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        console.print(f"[bold]rapport worker[/bold] running {concurrency} at a time; Ctrl-C stops")
        await start_hub(current.redis_url)  # its jobs' pushes reach every server's clients
        parts = worker_parts(current)
        for part in parts:
            part.start()
        quiet_collector()  # as the server does: full collections stay off the jobs' path
        try:
            await Worker(database, concurrency=concurrency, poll_seconds=poll_seconds).run_forever(
                stop
            )
        finally:
            for part in reversed(parts):
                part.stop()
            await stop_hub()
            await database.dispose()

    asyncio.run(main())


def worker_parts(current: Settings) -> list[BackgroundPart]:
    """Return what runs beside a standalone worker (the IMAP poller), not started yet: it
    runs here even when the environment, shared with `--no-worker` servers, says
    RAPPORT_RUN_WORKER=false."""
    parts = background_parts(current.model_copy(update={"run_worker": True}))
    return [parts[name] for name in WORKER_PARTS if name in parts]


def _describe(url: str) -> str:
    """Show a database url without its password."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
