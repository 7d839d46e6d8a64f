"""The demo shop page takes the widget's language as `?lang=`: one it knows, else English (the
page's own text, and its `lang`, stay English)."""

from __future__ import annotations

import httpx
import pytest

from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.verification import identity_verification
from rapport.web.widget.demo import DEMO_SLUG
from tests.fixtures.identity import make_source, make_workspace


@pytest.mark.parametrize(
    ("asked", "told"),
    [("es", "es"), ("fr", "fr"), ("de", "de"), (None, "en"), ("it", "en"),
     ('"><script>alert(1)</script>', "en")],
)  # fmt: skip
async def test_the_page_gives_the_widget_a_known_language(
    client: httpx.AsyncClient, database: Database, asked: str | None, told: str
) -> None:
    workspace = await make_workspace(database, DEMO_SLUG)
    source = await make_source(database, workspace, "Demo website")
    async with database.session() as session:
        await identity_verification.secret(
            session, workspace_id=workspace.id, source_id=source.id, actor=SYSTEM
        )
    response = await client.get("/demo/shop", params={} if asked is None else {"lang": asked})
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert f'lang="{told}"></rapport-chat>' in response.text
    assert "<script>alert" not in response.text
    assert f"?signed_in=true&lang={told}" in response.text  # signing in keeps the language
