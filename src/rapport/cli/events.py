"""`rapport events count`."""

from __future__ import annotations

import typer

from rapport.cli.common import out, run
from rapport.core.db import Database
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
