"""`rapport sources create|list|webhook-secret|identity-secret`."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from rapport.cli.common import console, out, run
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import ActorType, Scope
from rapport.identity.keys import sources
from rapport.identity.schemas import Principal
from rapport.identity.service import workspaces
from rapport.identity.verification import identity_verification

app = typer.Typer(help="Event sources and their public write keys.", no_args_is_help=True)


def cli_principal(workspace_id: str) -> Principal:
    """Return the principal the command line acts as in a workspace."""
    return Principal(workspace_id, ActorType.system, "cli", frozenset(Scope))


@app.command()
def create(
    workspace: str = typer.Option(..., help="Workspace slug."),
    name: str = typer.Option(..., help="Where events come from, e.g. 'web shop'."),
) -> None:
    """Create an event source; its write key is printed as the last line."""

    async def work(database: Database) -> str:
        async with database.session() as session:
            target = await workspaces.get_by_slug(session, workspace)
            source = await sources.create(session, workspace_id=target.id, name=name, actor=SYSTEM)
            return source.write_key

    write_key = run(work)
    console.print("Write key (public; use it as Segment's writeKey):")
    out.print(write_key)


@app.command("list")
def list_sources(workspace: str = typer.Option(..., help="Workspace slug.")) -> None:
    """List a workspace's sources with their write keys."""

    async def work(database: Database) -> list[tuple[str, str, str]]:
        async with database.session() as session:
            target = await workspaces.get_by_slug(session, workspace)
            rows = await sources.list(session, cli_principal(target.id))
            return [(row.name, row.write_key, row.id) for row in rows]

    table = Table("name", "write key", "id")
    for row in run(work):
        table.add_row(*row)
    out.print(table)


@app.command("webhook-secret")
def webhook_secret(
    workspace: str = typer.Option(..., help="Workspace slug."),
    write_key: str = typer.Option(..., help="The source's write key."),
    rotate: bool = typer.Option(
        False, "--rotate", help="Replace it with a new random secret; the old one stops at once."
    ),
    set_secret: bool = typer.Option(
        False,
        "--set",
        help="Store the secret your shop signs with (Shopify: Settings > Notifications > "
        "Webhooks), read from a hidden prompt or from stdin.",
    ),
) -> None:
    """Print the secret that signs a source's Shopify webhooks, as the last line."""
    if rotate and set_secret:
        raise typer.BadParameter("Use --rotate or --set, not both.")
    pasted = _read_secret() if set_secret else None

    async def work(database: Database) -> str:
        async with database.session() as session:
            target = await workspaces.get_by_slug(session, workspace)
            source = await sources.by_write_key(session, write_key)
            if source is None or source.workspace_id != target.id:
                raise SystemExit("error: no such source in this workspace")
            current = await sources.webhook_secret(session, target.id, source.id)
            if current is not None and not rotate and pasted is None:
                return current
            return await sources.set_webhook_secret(
                session, workspace_id=target.id, source_id=source.id, actor=SYSTEM, secret=pasted
            )

    secret = run(work)
    if pasted is None:
        out.print(secret)
    else:
        console.print("Webhook secret stored.")


@app.command("identity-secret")
def identity_secret(
    workspace: str = typer.Option(..., help="Workspace slug."),
    write_key: str = typer.Option(..., help="The source's write key."),
    rotate: bool = typer.Option(
        False, "--rotate", help="Replace it with a new random secret; old signatures stop at once."
    ),
    require: bool | None = typer.Option(
        None,
        "--require/--no-require",
        help="Keep unsigned identities from the write key as unverified claims (or stop).",
    ),
) -> None:
    """Print the secret a shop's server signs user ids with (identity verification), as the
    last line; made the first time it is asked for."""

    async def work(database: Database) -> tuple[str, bool]:
        async with database.session() as session:
            target = await workspaces.get_by_slug(session, workspace)
            source = await sources.by_write_key(session, write_key)
            if source is None or source.workspace_id != target.id:
                raise SystemExit("error: no such source in this workspace")
            if require is not None:
                await identity_verification.set_required(
                    session,
                    workspace_id=target.id,
                    source_id=source.id,
                    required=require,
                    actor=SYSTEM,
                )
            change = identity_verification.rotate if rotate else identity_verification.secret
            secret = await change(
                session, workspace_id=target.id, source_id=source.id, actor=SYSTEM
            )
            return secret, source.identity_verification_required

    secret, required = run(work)
    state = "required" if required else "NOT required: unsigned identify calls still count"
    console.print(f"Identity verification is {state}. Sign user ids with this secret:")
    out.print(secret)


def _read_secret() -> str:
    """Read a pasted secret without echoing it or leaving it in the shell history."""
    if sys.stdin.isatty():
        return str(typer.prompt("Webhook signing secret", hide_input=True))
    return sys.stdin.readline().strip()
