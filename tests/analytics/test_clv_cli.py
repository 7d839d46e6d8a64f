"""`rapport analytics predict` (a real subprocess against the test database)."""

from __future__ import annotations

from sqlalchemy import func, select

from rapport.analytics.models import CustomerPrediction
from rapport.config import Settings
from rapport.core.db import Database
from tests.fixtures.cli import run_cli
from tests.fixtures.identity import make_workspace
from tests.fixtures.predictions import make_history


def _predict(settings: Settings, slug: str) -> str:
    """Run the command; return its last line."""
    return run_cli(settings, "analytics", "predict", "--workspace", slug)[-1]


async def test_predict_stores_every_buyers_prediction(
    database: Database, settings: Settings
) -> None:
    workspace = await make_workspace(database)
    await make_history(database, workspace.id)
    last = _predict(settings, workspace.slug)
    async with database.session() as session:
        stored = (
            await session.execute(
                select(func.count())
                .select_from(CustomerPrediction)
                .where(CustomerPrediction.workspace_id == workspace.id)
            )
        ).scalar_one()
    assert (last.split()[0], stored) == ("customers=24", 24)


async def test_predict_says_when_there_is_too_little_history(
    database: Database, settings: Settings
) -> None:
    workspace = await make_workspace(database)
    last = _predict(settings, workspace.slug)
    assert last == "customers=0 (too little purchase history to fit a model)"
