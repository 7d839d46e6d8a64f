"""Saving articles: embeddings made before the write, and never kept for a text they do not
describe."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta

import pytest

from rapport.assistant.dialogue import Hit
from rapport.assistant.knowledge import knowledge_search
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.knowledge import search as searching
from rapport.knowledge.embedding import embedder, use_embedder
from rapport.knowledge.models import Article
from rapport.knowledge.schemas import ArticleUpdate
from rapport.knowledge.service import articles, search
from rapport.nlp.fakes import FakeEmbedder
from rapport.nlp.ports import Embedder, Vectors
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


class _FailsOn(FakeEmbedder):
    """Another model, which fails on any batch holding `poison`; counts its texts a call."""

    name = "failing-embedder"

    def __init__(self, poison: str) -> None:
        self.poison, self.calls = poison, list[int]()

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(len(texts))
        if any(self.poison in text for text in texts):
            raise RuntimeError("model failed on a text")
        return super().embed(texts)


async def test_a_row_the_model_fails_on_breaks_no_search(database: Database) -> None:
    poisoned, other = await make_workspace(database), await make_workspace(database)
    await make_article(database, poisoned.id, "Bad", "POISON vouchers.")
    gifts = await make_article(database, other.id, "Gift cards", "Vouchers never expire.")
    failing = _FailsOn("POISON")
    use_embedder(failing)
    async with database.session() as session:  # notes the poisoned article for a refresh
        assert len(await search(session, poisoned.id, "vouchers")) == 1
    for _ in range(2):  # the refresh fails, is logged, and the search answers by words
        async with database.session() as session:
            hits = await search(session, other.id, "vouchers")
        assert [hit.article_id for hit in hits] == [gifts]
    hits = await knowledge_search_of(database, other.id, "Do vouchers expire?")
    assert [hit.title for hit in hits] == ["Gift cards"]


async def knowledge_search_of(database: Database, workspace_id: str, query: str) -> list[Hit]:
    async with database.session() as session:
        return list(await knowledge_search(session, workspace_id, query, "en"))


async def test_a_refresh_embeds_a_bounded_number_of_rows(database: Database) -> None:
    workspace = await make_workspace(database)
    for number in range(searching.REFRESH_TEXTS + 6):
        await make_article(database, workspace.id, f"Article {number}", "About vouchers.")
    counting = _FailsOn("never in any text")
    use_embedder(counting)
    for _ in range(3):
        async with database.session() as session:
            await search(session, workspace.id, "vouchers")
    # The query alone, then 64 rows and the query, then the last 6 and the query.
    assert counting.calls == [1, searching.REFRESH_TEXTS, 1, 6, 1]


def test_a_row_being_embedded_is_not_queued_twice() -> None:
    index: searching.VersionIndex[searching.Indexed] = searching.VersionIndex()
    stale = searching.StaleVectors(
        index, key=lambda item: item.article_id, texts=lambda _: ["text"],
        with_vectors=lambda item, _vectors, _model: item,
    )  # fmt: skip
    try:
        row = searching.indexed(
            Article(id="a1", slug="a", locale="en", title="A", body="B", updated_at=utcnow())
        )
        stale.note(row)
        assert stale.take(10) == [row] and "a1" not in stale
        stale.note(row)  # met again while a refresh embeds it
        assert "a1" not in stale
        stale.done(row)
        stale.note(row)
        assert "a1" in stale
    finally:
        searching._stale_sets.remove(stale)


def test_new_vectors_never_replace_a_newer_version() -> None:
    index: searching.VersionIndex[searching.Indexed] = searching.VersionIndex()
    old = searching.indexed(
        Article(id="a1", slug="a", locale="en", title="A", body="B", updated_at=utcnow())
    )
    newer = dataclasses.replace(old, title="A, edited", updated_at=utcnow() + timedelta(seconds=1))
    index.store("a1", newer)
    index.replace("a1", dataclasses.replace(old, model="another"))  # a refresh of the old one
    assert index._items["a1"] is newer
    index.replace("a1", dataclasses.replace(newer, model="another"))
    assert index._items["a1"].model == "another"
