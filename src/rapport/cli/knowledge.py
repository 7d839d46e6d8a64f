"""`rapport knowledge reembed`: the knowledge base's vectors made again by the running model,
with a progress bar."""

from __future__ import annotations

import asyncio

import typer
from rich.progress import Progress

from rapport.cli.common import console, out, run
from rapport.core.db import Database
from rapport.identity.service import workspaces
from rapport.knowledge.embedding import embedder
from rapport.knowledge.reembedding import count_stale, reembed

app = typer.Typer(
    help="The knowledge base: articles and product fact sheets.", no_args_is_help=True
)


@app.command("reembed")
def reembed_command(
    workspace: str | None = typer.Option(None, help="Workspace slug (every workspace if omitted)."),
) -> None:
    """Embed again the articles and fact sheets whose vectors another model made (after
    MiniLM was installed or removed): searches answer by meaning at once, in every
    process, instead of each process embedding the rows it meets. Safe to run while Rapport
    serves, and to repeat."""

    async def work(database: Database) -> None:
        workspace_id = None
        async with database.session() as session:
            if workspace is not None:
                workspace_id = (await workspaces.get_by_slug(session, workspace)).id
        model = (await asyncio.to_thread(embedder)).name
        async with database.session() as session:
            total = await count_stale(session, model, workspace_id)
        # With nothing to do there is no bar (an empty one read "0 %" as if stuck).
        with Progress(console=console, disable=not total) as progress:
            task = progress.add_task(f"Embedding with {model}", total=total)
            done = await reembed(
                database, workspace_id=workspace_id, advance=lambda n: progress.advance(task, n)
            )
        out.print(
            f"{done.written} embedded with {done.model}; {done.changed_meanwhile} changed "
            f"meanwhile (embedded by their edit); {done.empty} fact sheets with nothing to embed"
        )

    run(work)
