"""`rapport keys create`."""

from __future__ import annotations

import typer

from rapport.cli.common import console, out, run
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Scope
from rapport.identity.keys import api_keys
from rapport.identity.service import workspaces

app = typer.Typer(help="Secret API keys for the REST API.", no_args_is_help=True)


@app.command()
def create(
    workspace: str = typer.Option(..., help="Workspace slug."),
    name: str = typer.Option(..., help="What the key is for."),
    scope: list[Scope] = typer.Option(
        None, help="Scope to grant (repeat the option); all scopes when omitted."
    ),
) -> None:
    """Create a secret API key; the key is printed once, as the last line."""

    async def work(database: Database) -> str:
        async with database.session() as session:
            target = await workspaces.get_by_slug(session, workspace)
            _, secret = await api_keys.create(
                session,
                workspace_id=target.id,
                name=name,
                scopes=scope or list(Scope),
                actor=SYSTEM,
            )
            return secret

    secret = run(work)
    console.print("API key (shown once; send it as `Authorization: Bearer <key>`):")
    out.print(secret)
