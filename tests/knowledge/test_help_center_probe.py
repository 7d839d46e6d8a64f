"""Help center slugs cannot be enumerated: a workspace with no published article answers
every help-center address exactly as a slug no workspace has (status, headers, page)."""

from __future__ import annotations

import httpx
import pytest

from rapport.core.db import Database
from rapport.knowledge.enums import ArticleStatus
from tests.fixtures.identity import make_workspace
from tests.fixtures.knowledge import make_article


@pytest.mark.parametrize(
    "tail", ["", "?q=shipping", "?locale=de", "/en/draft", "/en/anything", "/de/draft"]
)
async def test_a_workspace_without_articles_looks_like_no_workspace(
    client: httpx.AsyncClient, database: Database, tail: str
) -> None:
    workspace = await make_workspace(database)
    await make_article(database, workspace.id, "Draft", slug="draft", status=ArticleStatus.draft)
    existing = await client.get(f"/help/{workspace.slug}{tail}")
    missing = await client.get(f"/help/no-such-workspace-at-all{tail}")
    assert existing.status_code == missing.status_code == 404
    assert existing.text == missing.text
    assert workspace.slug not in existing.text and workspace.name not in existing.text
    assert {k: v for k, v in existing.headers.items() if k not in ("date", "x-request-id")} == {
        k: v for k, v in missing.headers.items() if k not in ("date", "x-request-id")
    }
