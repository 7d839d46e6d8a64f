"""`rapport import survey-responses`: the count as the last line, re-import adds nothing, a bad
row named by its line stores nothing, customers resolved by user id, comments sealed."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from rapport.config import Settings
from rapport.core.db import Database
from rapport.customers.service import customers
from rapport.feedback import service
from rapport.feedback.models import SurveyResponse
from rapport.feedback.text import open_comment
from rapport.identity.models import Workspace
from tests.fixtures.cli import cli
from tests.fixtures.identity import make_workspace

GOOD = (
    "\ufeff user_id , score ,answered_at,email,comment,channel\n"
    "u-1,10,2026-03-01,one@example.com,,email\n"
    "u-2, 9 ,2026-03-01T10:00:00,,Great service,CHAT\n"
    "u-3,6,2026-03-02T01:30:00+02:00,,The delivery was late and the support was rude,\n"
    "u-1,0,2026-03-05 12:00:00,,,\n"
    "u-1,0,2026-03-05 12:00:00,,,\n"  # a second, identical answer: each line counts
    "\n"
    "  \n"
)
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def _cli(settings: Settings, path: Path, slug: str, kind: str) -> subprocess.CompletedProcess[str]:
    return cli(
        settings, "import", "survey-responses", str(path), "--workspace", slug, "--kind", kind
    )


async def _stored(database: Database, workspace: Workspace) -> list[SurveyResponse]:
    async with database.session() as session:
        statement = select(SurveyResponse).where(SurveyResponse.workspace_id == workspace.id)
        rows = (await session.execute(statement.order_by(SurveyResponse.answered_at))).scalars()
        return list(rows)


async def test_import_prints_the_count_last_and_again_adds_nothing(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    path = tmp_path / "nps.csv"
    path.write_text(GOOD, encoding="utf-8")
    first = _cli(settings, path, workspace.slug, "nps")
    second = _cli(settings, path, workspace.slug, "nps")
    assert (first.returncode, first.stdout.splitlines()[-1]) == (0, "5"), first.stderr
    assert (second.returncode, second.stdout.splitlines()[-1]) == (0, "0"), second.stderr
    async with database.session() as session:
        histogram = await service.score_histogram(
            session, workspace.id, kind="nps", start=EVER[0], end=EVER[1]
        )
    assert histogram == {10: 1, 9: 1, 6: 1, 0: 2}


async def test_imported_rows_keep_their_time_channel_and_customer(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    path = tmp_path / "nps.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert _cli(settings, path, workspace.slug, "nps").returncode == 0
    rows = await _stored(database, workspace)
    async with database.session() as session:
        [customer_1] = await customers.search(session, workspace.id, "u-1")
        [by_email] = await customers.search(session, workspace.id, "one@example.com")
        [customer_3] = await customers.search(session, workspace.id, "u-3")
    assert [(row.answered_at, row.score, row.channel, row.origin) for row in rows] == [
        (datetime(2026, 3, 1, tzinfo=UTC), 10, "email", "import"),
        (datetime(2026, 3, 1, 10, tzinfo=UTC), 9, "chat", "import"),
        (datetime(2026, 3, 1, 23, 30, tzinfo=UTC), 6, None, "import"),
        (datetime(2026, 3, 5, 12, tzinfo=UTC), 0, None, "import"),
        (datetime(2026, 3, 5, 12, tzinfo=UTC), 0, None, "import"),
    ]
    assert by_email == customer_1
    assert [rows[0].customer_id, rows[3].customer_id, rows[2].customer_id] == [
        customer_1,
        customer_1,
        customer_3,
    ]


async def test_comments_are_sealed_and_labelled(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    path = tmp_path / "nps.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert _cli(settings, path, workspace.slug, "nps").returncode == 0
    row = (await _stored(database, workspace))[2]
    text = "The delivery was late and the support was rude"
    assert row.comment is not None and text.encode() not in row.comment
    assert open_comment(row.id, row.comment) == text
    assert (row.sentiment_label, row.topics) == ("negative", ["delivery", "support", "speed"])


async def test_bad_rows_are_named_by_line_and_nothing_is_stored(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    path = tmp_path / "csat.csv"
    path.write_text(
        "user_id,score,answered_at\n"
        "u-1,5,2026-03-01\n"
        "u-2,6,2026-03-01\n"  # CSAT runs 1-5
        ",3,2026-03-01\n"
        "u-4,4,yesterday\n"
        "u-5,4.5,2026-03-01\n",
        encoding="utf-8",
    )
    done = _cli(settings, path, workspace.slug, "csat")
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    assert "Line 3: score '6' is not a whole number from 1 to 5." in message
    assert "Line 4: user_id is empty." in message
    assert "Line 5: answered_at 'yesterday' is not an ISO date or datetime." in message
    assert "Line 6: score '4.5'" in message
    assert await _stored(database, workspace) == []


async def test_a_file_without_the_columns_or_an_unknown_kind_is_refused(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    path = tmp_path / "bad.csv"
    path.write_text("customer,rating\nu-1,5\n", encoding="utf-8")
    missing = _cli(settings, path, workspace.slug, "csat")
    unknown = _cli(settings, path, workspace.slug, "stars")
    assert missing.returncode == unknown.returncode == 1
    assert "The file lacks the column(s): user_id, score, answered_at." in missing.stderr
    assert "Import kind 'stars': one of nps, csat, ces." in " ".join(unknown.stderr.split())
