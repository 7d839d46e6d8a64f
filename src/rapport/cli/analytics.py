"""`rapport analytics predict`: refit and store per-customer churn risk and expected value."""

from __future__ import annotations

import typer
from rich.progress import Progress

from rapport.analytics.predictions import HORIZON_MONTHS, MONTHLY_DISCOUNT, predictions
from rapport.cli.common import console, out, run
from rapport.core.db import Database
from rapport.identity.service import workspaces

app = typer.Typer(help="Per-customer predictions from purchase history.", no_args_is_help=True)


@app.command()
def predict(
    workspace: str = typer.Option(..., help="Workspace slug."),
    horizon_months: int = typer.Option(
        HORIZON_MONTHS, min=1, max=120, help="Months the expected value covers."
    ),
    monthly_discount: float = typer.Option(
        MONTHLY_DISCOUNT, min=0.0, max=1.0, help="Discount rate per month (0.01 = 1 %)."
    ),
) -> None:
    """Fit BG/NBD and Gamma-Gamma on the workspace's orders and store every buyer's churn
    risk and expected value; the last line is `customers=N model=ID` (or says why none)."""

    async def work(database: Database) -> str:
        async with database.session() as session:
            workspace_id = (await workspaces.get_by_slug(session, workspace)).id
        with Progress(console=console) as progress:
            reading = progress.add_task("Reading purchase histories", total=None)
            async with database.session() as session:
                model = await predictions.fit(
                    session,
                    workspace_id,
                    horizon_months=horizon_months,
                    monthly_discount=monthly_discount,
                    on_page=lambda count: progress.advance(reading, count),
                )
            progress.update(reading, total=progress.tasks[reading].completed)
            if model is None:
                return "customers=0 (too little purchase history to fit a model)"
            storing = progress.add_task("Storing predictions", total=model.customers)
            stored, after, done = 0, None, False
            while not done:
                async with database.session() as session:
                    page = await predictions.store_page(session, workspace_id, model.id, after)
                stored += page.stored
                progress.advance(storing, page.stored)
                after, done = page.next_after, page.next_after is None
        return f"customers={stored} model={model.id}"

    out.print(run(work))
