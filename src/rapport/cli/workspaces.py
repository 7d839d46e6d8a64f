"""`rapport workspaces create|list`."""

from __future__ import annotations

import typer
from rich.table import Table

from rapport.cli.common import out, run
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.service import workspaces

app = typer.Typer(help="Workspaces (one per brand or shop).", no_args_is_help=True)


@app.command()
def create(
    slug: str = typer.Option(..., help="Short unique name, e.g. acme."),
    name: str = typer.Option(..., help="Display name, e.g. 'Acme Outdoor'."),
) -> None:
    """Create a workspace; prints its slug as the last line."""

    async def work(database: Database) -> str:
        async with database.session() as session:
            workspace = await workspaces.create(session, slug=slug, name=name, actor=SYSTEM)
            return workspace.slug

    out.print(run(work))


@app.command("list")
def list_workspaces() -> None:
    """List every workspace."""

    async def work(database: Database) -> list[tuple[str, str, str]]:
        async with database.session() as session:
            rows = await workspaces.list_all(session)
            return [(row.slug, row.name, row.id) for row in rows]

    table = Table("slug", "name", "id")
    for row in run(work):
        table.add_row(*row)
    out.print(table)
