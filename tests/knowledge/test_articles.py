"""Saving articles: embeddings made before the write, and never kept for a text they do not
describe."""

from __future__ import annotations

import pytest

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.knowledge import search as searching
from rapport.knowledge.embedding import embedder, use_embedder
from rapport.knowledge.schemas import ArticleUpdate
from rapport.knowledge.service import articles, search
from rapport.nlp.ports import Embedder
from tests.fixtures.identity import make_workspace
from tests.fixtures.knowledge import UpgradedEmbedder, make_article


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


async def test_an_article_without_a_vector_is_found_by_words_then_embedded_before_a_unit(
    database: Database, fake_embedder: Embedder
) -> None:
    workspace = await make_workspace(database)
    article_id = await make_article(database, workspace.id, "Gifts", "Vouchers never expire.")
    async with database.session() as session:
        article = await articles.get(session, workspace.id, article_id)
        article.embedding, article.embedding_model = None, None
    async with database.session() as session:
        first = await search(session, workspace.id, "vouchers")
    assert [(hit.article_id, hit.semantic_score) for hit in first] == [(article_id, 0.0)]
    assert article_id in searching.stale
    async with database.session() as session:
        hits = await search(session, workspace.id, "vouchers")
    query, text = fake_embedder.embed(["vouchers", "Gifts. Vouchers never expire."])
    assert [(hit.article_id, hit.semantic_score) for hit in hits] == [
        (article_id, round(float(query @ text), 4))
    ]
    assert article_id not in searching.stale


async def test_articles_of_another_model_are_embedded_again_with_no_connection_held(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    article_id = await make_article(database, workspace.id, "Gifts", "Vouchers never expire.")
    upgraded = UpgradedEmbedder(database)
    use_embedder(upgraded)
    async with database.session() as session:  # the stored vector is the fake's: by words
        first = await search(session, workspace.id, "Do vouchers expire?")
    assert [(hit.article_id, hit.semantic_score) for hit in first] == [(article_id, 0.0)]
    async with database.session() as session:
        again = await search(session, workspace.id, "Do vouchers expire?")
    query, text = upgraded.embed(["Do vouchers expire?", "Gifts. Vouchers never expire."])
    assert [(hit.article_id, hit.semantic_score) for hit in again] == [
        (article_id, round(float(max(0.0, query @ text)), 4))
    ]
    assert upgraded.held and set(upgraded.held) == {0}  # no connection held while it ran
