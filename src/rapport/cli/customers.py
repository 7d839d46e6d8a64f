"""`rapport customers find|show|merge|unmerge|merges`."""

from __future__ import annotations

import json

import typer

from rapport.cli.common import out, run
from rapport.core.db import Database
from rapport.customers.enums import MergeReason
from rapport.customers.merges import merges
from rapport.customers.service import customers
from rapport.identity.audit import SYSTEM
from rapport.identity.service import workspaces

app = typer.Typer(help="Customer profiles, identity merges and their undo.", no_args_is_help=True)
CLI_ACTOR = "system:cli"


async def _workspace_id(database: Database, slug: str) -> str:
    async with database.session() as session:
        return (await workspaces.get_by_slug(session, slug)).id


@app.command()
def find(
    query: str = typer.Argument(..., help="Exact email, phone, user id or name."),
    workspace: str = typer.Option(..., help="Workspace slug."),
) -> None:
    """Print the ids of the profiles matching a query, one per line."""

    async def work(database: Database) -> list[str]:
        workspace_id = await _workspace_id(database, workspace)
        async with database.session() as session:
            return await customers.search(session, workspace_id, query)

    for customer_id in run(work):
        out.print(customer_id)


@app.command()
def show(
    customer_id: str = typer.Argument(..., help="Profile id."),
    workspace: str = typer.Option(..., help="Workspace slug."),
) -> None:
    """Print a customer's 360 profile as JSON."""

    async def work(database: Database) -> str:
        workspace_id = await _workspace_id(database, workspace)
        async with database.session() as session:
            profile = await customers.get(session, workspace_id, customer_id)
            return profile.model_dump_json(indent=2)

    out.print(run(work))


@app.command()
def merge(
    winner: str = typer.Argument(..., help="Profile that remains."),
    loser: str = typer.Argument(..., help="Profile that joins it."),
    workspace: str = typer.Option(..., help="Workspace slug."),
) -> None:
    """Merge two profiles; prints the merge id (for unmerge) as the last line."""

    async def work(database: Database) -> str:
        workspace_id = await _workspace_id(database, workspace)
        async with database.session() as session:
            done = await merges.merge(
                session,
                workspace_id,
                winner_id=winner,
                loser_id=loser,
                reason=MergeReason.staff,
                actor=CLI_ACTOR,
                audited_by=SYSTEM,
            )
            return done.id

    out.print(run(work))


@app.command()
def unmerge(
    merge_id: str = typer.Argument(..., help="Merge id (see `rapport customers merges`)."),
    workspace: str = typer.Option(..., help="Workspace slug."),
) -> None:
    """Undo a merge: the joined profile gets its identifiers back."""

    async def work(database: Database) -> str:
        workspace_id = await _workspace_id(database, workspace)
        async with database.session() as session:
            undone = await merges.unmerge(
                session, workspace_id, merge_id, CLI_ACTOR, audited_by=SYSTEM
            )
            return f"unmerged {undone.loser_id} from {undone.winner_id}"

    out.print(run(work))


@app.command("merges")
def list_merges(
    customer_id: str = typer.Argument(..., help="Profile id."),
    workspace: str = typer.Option(..., help="Workspace slug."),
) -> None:
    """Print the merges a profile took part in, one JSON object per line, newest first."""

    async def work(database: Database) -> list[str]:
        workspace_id = await _workspace_id(database, workspace)
        async with database.session() as session:
            rows = await merges.history(session, workspace_id, customer_id)
            return [
                json.dumps(
                    {
                        "id": row.id,
                        "winner_id": row.winner_id,
                        "loser_id": row.loser_id,
                        "reason": row.reason,
                        "undone": row.undone_at is not None,
                    }
                )
                for row in rows
            ]

    for line in run(work):
        out.print(line)
