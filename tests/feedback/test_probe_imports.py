"""Probe: a survey-responses file that is not UTF-8 text, or has a cell past the CSV reader's
limit, is refused with one clear line (exit 1, nothing stored), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from rapport.config import Settings
from rapport.core.db import Database
from tests.feedback.test_imports import _cli, _stored
from tests.fixtures.identity import make_workspace

HEADER = b"user_id,score,answered_at,comment\n"
NOT_UTF8 = "Nothing was imported: the file is not UTF-8 text."
TOO_LONG = "Line 2: the CSV cannot be read (field larger than field limit"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HEADER + b"u-1,9,2026-03-01,caf\xe9\n", NOT_UTF8),
        (HEADER + b"u-1,9,2026-03-01," + b"x" * 200_000 + b"\n", TOO_LONG),
    ],
)
async def test_an_unreadable_file_is_refused_in_one_line(
    database: Database, settings: Settings, tmp_path: Path, content: bytes, message: str
) -> None:
    workspace = await make_workspace(database)
    path = tmp_path / "answers.csv"
    path.write_bytes(content)
    done = _cli(settings, path, workspace.slug, "nps")
    assert (done.returncode, "Traceback" in done.stderr) == (1, False)
    assert message in " ".join(done.stderr.split())
    assert await _stored(database, workspace) == []
