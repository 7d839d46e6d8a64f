"""`rapport analytics predict` (a real subprocess against the test database)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from rapport.analytics.models import CustomerPrediction
from rapport.config import Settings
from rapport.core.db import Database
from tests.conftest import TEST_SECRET
from tests.fixtures.identity import make_workspace
from tests.fixtures.predictions import make_history

RAPPORT = str(Path(sys.executable).parent / "rapport")


def _predict(settings: Settings, slug: str) -> str:
    """Run the command; return its last line."""
    env = {
        **os.environ,
        "RAPPORT_DATABASE_URL": settings.database_url,
        "RAPPORT_SECRET_KEY": TEST_SECRET,
        "RAPPORT_DATA_DIR": str(settings.data_dir),
        "RAPPORT_ENV": "test",
    }
    done = subprocess.run(
        [RAPPORT, "analytics", "predict", "--workspace", slug],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


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
