"""`rapport events count`, `rapport events failures`, `rapport events reprocess`."""

from __future__ import annotations

import typer

from rapport.cli.common import out, run
from rapport.core.db import Database
from rapport.events.failures import FailureRead, processing_failures
from rapport.events.processing import reprocess_failures
from rapport.events.service import events
from rapport.identity.service import workspaces

app = typer.Typer(help="Ingested touchpoint events.", no_args_is_help=True)


@app.command()
def count(workspace: str = typer.Option(..., help="Workspace slug.")) -> None:
    """Print the stored calls of every type as the last line, in this exact format:

    identify=3 track=10 page=2 screen=0 group=0 alias=0
    """

    async def work(database: Database) -> str:
        async with database.session() as session:
            target = await workspaces.get_by_slug(session, workspace)
            counted = await events.count(session, target.id)
            return " ".join(f"{kind}={number}" for kind, number in counted.model_dump().items())

    out.print(run(work))


@app.command()
def failures(
    workspace: str = typer.Option(..., help="Workspace slug."),
    limit: int = typer.Option(100, min=1, max=10_000, help="How many to list, oldest first."),
) -> None:
    """List the stored calls whose processing failed, one a line, oldest first:

    EVENT_ID SOURCE_ID ERROR ATTEMPTS LAST_FAILED_AT LOCATION
    """

    async def work(database: Database) -> list[FailureRead]:
        async with database.session() as session:
            target = await workspaces.get_by_slug(session, workspace)
            return await processing_failures.oldest(session, target.id, limit=limit)

    for failure in run(work):
        out.print(
            failure.event_id,
            failure.source_id or "-",
            failure.error,
            failure.attempts,
            failure.last_failed_at.isoformat(),
            failure.location,
        )


@app.command()
def reprocess(workspace: str = typer.Option(..., help="Workspace slug.")) -> None:
    """Process again every call whose processing failed (after a fix), a chunk per
    transaction; print how many were processed and how many failed again:

    processed=3 failed=1
    """

    async def work(database: Database) -> tuple[int, int]:
        async with database.session() as session:
            workspace_id = (await workspaces.get_by_slug(session, workspace)).id
        return await reprocess_failures(database, workspace_id)

    processed, failed = run(work)
    out.print(f"processed={processed} failed={failed}")
