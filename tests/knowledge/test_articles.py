"""Saving articles: embeddings made before the write, and never kept for a text they do not
describe."""

from __future__ import annotations

import pytest

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.knowledge.embedding import embedder
from rapport.knowledge.schemas import ArticleUpdate
from rapport.knowledge.service import articles, search
from rapport.nlp.ports import Embedder
from tests.fixtures.identity import make_workspace
from tests.fixtures.knowledge import make_article


async def test_saving_stores_the_embedding_and_its_model(database: Database) -> None:
    workspace = await make_workspace(database)
    article_id = await make_article(database, workspace.id, "Gift cards", "Never expire.")
    async with database.session() as session:
        article = await articles.get(session, workspace.id, article_id)
        assert (article.embedding_model, len(article.embedding or b"")) == (
            embedder().name,
            4 * embedder().dimension,
        )


async def test_an_embedding_made_for_a_text_changed_meanwhile_is_not_kept(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = await make_workspace(database)
    article_id = await make_article(database, workspace.id, "Gift cards", "Never expire.")
    embed = articles._embedding

    async def while_another_edits(title: str, body: str) -> tuple[bytes, str]:
        async with database.session() as other:  # another request saves first
            found = await articles.get(other, workspace.id, article_id)
            found.body, found.updated_at = "Vouchers never expire.", utcnow()
        return await embed(title, body)

    monkeypatch.setattr(articles, "_embedding", while_another_edits)
    async with database.session() as session:
        await articles.update(session, workspace.id, article_id, ArticleUpdate(title="Gifts"))
    async with database.session() as session:
        article = await articles.get(session, workspace.id, article_id)
        assert (article.title, article.body, article.embedding) == (
            "Gifts",
            "Vouchers never expire.",
            None,
        )


async def test_an_article_without_a_vector_is_embedded_when_searched(
    database: Database, fake_embedder: Embedder
) -> None:
    workspace = await make_workspace(database)
    article_id = await make_article(database, workspace.id, "Gifts", "Vouchers never expire.")
    async with database.session() as session:
        article = await articles.get(session, workspace.id, article_id)
        article.embedding, article.embedding_model = None, None
    async with database.session() as session:
        hits = await search(session, workspace.id, "vouchers")
    query, text = fake_embedder.embed(["vouchers", "Gifts. Vouchers never expire."])
    assert [(hit.article_id, hit.semantic_score) for hit in hits] == [
        (article_id, round(float(query @ text), 4))
    ]
