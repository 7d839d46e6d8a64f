"""`rapport jobs dead`, `rapport jobs retry`: background jobs that gave up."""

from __future__ import annotations

import typer

from rapport.cli.common import out, run
from rapport.core.db import Database
from rapport.worker.dead import DeadJob, dead_jobs, retry_dead

app = typer.Typer(help="Background jobs that gave up after every attempt.", no_args_is_help=True)


@app.command()
def dead(
    name: str | None = typer.Option(None, help="Only jobs of this name (e.g. webhooks.deliver)."),
    limit: int = typer.Option(100, min=1, max=10_000, help="How many to list, newest first."),
) -> None:
    """List the jobs that gave up (kept 30 days), one a line, the most recent first:

    JOB_ID NAME WORKSPACE_ID ATTEMPTS DIED_AT LAST_ERROR
    """

    async def work(database: Database) -> list[DeadJob]:
        async with database.session() as session:
            return await dead_jobs(session, name=name, limit=limit)

    for job in run(work):
        out.print(
            job.id,
            job.name,
            job.workspace_id or "-",
            job.attempts,
            job.died_at.isoformat() if job.died_at else "-",
            (job.last_error or "-").replace("\n", " "),
        )


@app.command()
def retry(
    job_ids: list[str] | None = typer.Argument(None, help="Ids from `rapport jobs dead`."),
    every: bool = typer.Option(False, "--all", help="Every dead job (of --name, if given)."),
    name: str | None = typer.Option(None, help="With --all: only jobs of this name."),
) -> None:
    """Queue dead jobs again with their attempts reset (after fixing what made them fail).

    Prints how many were queued as the last line: retried=N
    """
    if bool(job_ids) == every:
        raise typer.BadParameter("give job ids, or --all (not both)")

    async def work(database: Database) -> int:
        async with database.session() as session:
            return await retry_dead(session, job_ids=None if every else job_ids, name=name)

    out.print(f"retried={run(work)}")
