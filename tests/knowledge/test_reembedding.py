"""`rapport knowledge reembed`: after a model change, the knowledge base's vectors are made
again by the running model and written back, a chunk at a time, holding no connection while
the model runs, and never over an edit made meanwhile."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from rapport.config import Settings
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.knowledge import reembedding
from rapport.knowledge.embedding import from_bytes, use_embedder
from rapport.knowledge.models import Article, ProductSheet
from rapport.knowledge.service import articles
from rapport.nlp.ports import Embedder, Vectors
from tests.fixtures.cli import cli
from tests.fixtures.identity import make_workspace
from tests.fixtures.knowledge import UpgradedEmbedder, make_article, make_product_sheet


async def _row(database: Database, model: type[Article | ProductSheet], row_id: str) -> object:
    async with database.session() as session:
        return await session.get(model, row_id)


async def test_rows_of_another_model_get_the_running_ones_vectors(
    database: Database, fake_embedder: Embedder
) -> None:
    workspace, other = await make_workspace(database), await make_workspace(database)
    article_id = await make_article(database, workspace.id, "Gift cards", "Never expire.")
    sheet_id = await make_product_sheet(database, workspace.id)
    empty_id = await make_product_sheet(database, workspace.id, "bare", facts=())
    elsewhere = await make_article(database, other.id, "Returns", "Within 30 days.")
    before = await _row(database, Article, article_id)
    upgraded = UpgradedEmbedder(database)
    use_embedder(upgraded)
    async with database.session() as session:
        assert await reembedding.count_stale(session, upgraded.name, workspace.id) == 3

    advanced: list[int] = []
    done = await reembedding.reembed(database, workspace_id=workspace.id, advance=advanced.append)

    assert (done.model, done.written, done.changed_meanwhile, done.empty) == (
        upgraded.name, 2, 0, 1,
    )  # fmt: skip
    assert sum(advanced) == 3
    article = await _row(database, Article, article_id)
    assert isinstance(article, Article) and isinstance(before, Article)
    assert article.embedding_model == upgraded.name and article.updated_at == before.updated_at
    expected = upgraded.embed(["Gift cards. Never expire."])[0]
    assert from_bytes(article.embedding or b"").tolist() == expected.tolist()
    sheet = await _row(database, ProductSheet, sheet_id)
    assert isinstance(sheet, ProductSheet) and sheet.embedding_model == upgraded.name
    assert len(from_bytes(sheet.embedding or b"")) == 2 * upgraded.dimension  # two facts
    assert isinstance(empty := await _row(database, ProductSheet, empty_id), ProductSheet)
    assert empty.embedding_model is None
    untouched = await _row(database, Article, elsewhere)
    assert isinstance(untouched, Article) and untouched.embedding_model == fake_embedder.name
    assert set(upgraded.held) == {0}  # no connection held while the model ran
    again = await reembedding.reembed(database, workspace_id=workspace.id)
    assert (again.written, again.empty) == (0, 1)


async def test_an_article_edited_meanwhile_keeps_its_own_vector(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = await make_workspace(database)
    article_id = await make_article(database, workspace.id, "Gift cards", "Never expire.")
    original = reembedding.embed

    async def embed_while_edited(texts: Sequence[str]) -> tuple[Vectors, str]:
        async with database.session() as session:  # another request saves the article
            found = await articles.get(session, workspace.id, article_id)
            found.body, found.updated_at = "Vouchers never expire.", utcnow()
        vectors, _ = await original(texts)
        return vectors, "another-model"

    monkeypatch.setattr(reembedding, "embed", embed_while_edited)
    async with database.session() as session:
        found = await articles.get(session, workspace.id, article_id)
        found.embedding_model = "old-model"
    done = await reembedding.reembed(database, workspace_id=workspace.id)
    assert (done.written, done.changed_meanwhile) == (0, 1)
    article = await _row(database, Article, article_id)
    assert isinstance(article, Article) and article.embedding_model == "old-model"


async def test_the_command_reembeds_with_a_progress_bar(
    database: Database, settings: Settings
) -> None:
    workspace = await make_workspace(database)
    article_id = await make_article(database, workspace.id, "Gift cards", "Never expire.")
    async with database.session() as session:  # as if written while MiniLM was missing
        found = await articles.get(session, workspace.id, article_id)
        found.embedding_model = "an-earlier-model"
    done = cli(settings, "knowledge", "reembed", "--workspace", workspace.slug)
    assert done.returncode == 0, done.stderr
    assert "Embedding with" in done.stderr
    [line] = done.stdout.strip().splitlines()
    assert line.startswith("1 embedded with ") and "0 changed meanwhile" in line
    article = await _row(database, Article, article_id)
    assert isinstance(article, Article) and article.embedding_model not in (
        None,
        "an-earlier-model",
    )
    again = cli(settings, "knowledge", "reembed")
    assert again.stdout.strip().splitlines()[-1].startswith("0 embedded with ")
    assert "Embedding with" not in again.stderr  # nothing to do: no bar standing at 0 %
    missing = cli(settings, "knowledge", "reembed", "--workspace", "no-such-shop")
    assert missing.returncode == 1 and "error" in missing.stderr
