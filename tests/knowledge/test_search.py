"""Hybrid search: expected top hits, locales and their fallback, drafts and other workspaces."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import text

from rapport.core.db import Database
from rapport.core.recent import SETTINGS_SECONDS
from rapport.knowledge import embedding, ranking
from rapport.knowledge.embedding import use_embedder
from rapport.knowledge.enums import ArticleStatus
from rapport.knowledge.schemas import ArticleHit, ArticleUpdate
from rapport.knowledge.service import articles, search
from rapport.nlp.fakes import FakeEmbedder
from rapport.nlp.ports import Embedder
from tests.fixtures.identity import make_workspace
from tests.fixtures.knowledge import make_article, make_search_set
from tests.fixtures.recent import RecentClock


async def _search(
    database: Database, workspace_id: str, query: str, **options: object
) -> list[ArticleHit]:
    async with database.session() as session:
        return await search(session, workspace_id, query, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how long does delivery take to Austria", "shipping-times"),
        ("which size fits me", "size-guide"),
        ("I forgot my password", "reset-password"),
        ("Klarna", "payment-methods"),  # a word only one article holds: a keyword match
    ],
)
async def test_top_hit_with_minilm(
    database: Database, minilm: Embedder, query: str, expected: str
) -> None:
    workspace = await make_workspace(database)
    await make_search_set(database, workspace.id)
    hits = await _search(database, workspace.id, query)
    assert hits[0].slug == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [("I want my money back", "returns"), ("my parcel never arrived", "lost-shipment")],
)
async def test_a_question_sharing_no_word_is_found_by_meaning(
    database: Database, minilm: Embedder, query: str, expected: str
) -> None:
    workspace = await make_workspace(database)
    await make_search_set(database, workspace.id)
    hits = await _search(database, workspace.id, query)
    assert (hits[0].slug, hits[0].keyword_score) == (expected, 0.0)


async def test_a_keyword_only_match_is_found_without_minilm(database: Database) -> None:
    workspace = await make_workspace(database)
    ids = await make_search_set(database, workspace.id)
    hits = await _search(database, workspace.id, "Klarna")
    assert (hits[0].article_id, hits[0].keyword_score) == (ids["payment-methods"], 1.0)


async def test_a_hit_describes_the_article(database: Database) -> None:
    workspace = await make_workspace(database)
    ids = await make_search_set(database, workspace.id)
    hit = (await _search(database, workspace.id, "Klarna", limit=1))[0]
    assert hit.model_dump(exclude={"score", "semantic_score"}) == {
        "article_id": ids["payment-methods"],
        "slug": "payment-methods",
        "locale": "en",
        "title": "Payment methods",
        "snippet": "We accept Visa, Mastercard, PayPal, Klarna and bank transfer. Cards are "
        "charged when the order ships.",
        "url": f"/help/{workspace.slug}/en/payment-methods",
        "keyword_score": 1.0,
    }
    assert hit.score == pytest.approx(0.5 + 0.5 * hit.semantic_score, abs=1e-4)


async def test_drafts_are_found_only_when_asked(database: Database) -> None:
    workspace = await make_workspace(database)
    draft = await make_article(
        database, workspace.id, "Gift cards", "Gift cards never expire.", status=ArticleStatus.draft
    )
    assert await _search(database, workspace.id, "gift cards") == []
    everything = await _search(database, workspace.id, "gift cards", published_only=False)
    assert [hit.article_id for hit in everything] == [draft]


async def test_another_workspaces_articles_are_never_found(database: Database) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    await make_article(database, theirs.id, "Gift cards", "Gift cards never expire.")
    found = await _search(database, mine.id, "gift cards", published_only=False)
    assert found == []


async def test_an_unpublished_article_leaves_the_results(database: Database) -> None:
    workspace = await make_workspace(database)
    article_id = await make_article(database, workspace.id, "Gift cards", "They never expire.")
    assert [hit.article_id for hit in await _search(database, workspace.id, "gift")] == [article_id]
    async with database.session() as session:
        change = ArticleUpdate(status=ArticleStatus.draft)
        await articles.update(session, workspace.id, article_id, change)
    assert await _search(database, workspace.id, "gift") == []


async def test_an_article_unpublished_by_another_process_leaves_within_seconds(
    database: Database, recent_clock: RecentClock
) -> None:
    """Which articles a search looks at is kept for SETTINGS_SECONDS (core.recent)."""
    workspace = await make_workspace(database)
    article_id = await make_article(database, workspace.id, "Gift cards", "They never expire.")
    assert [hit.article_id for hit in await _search(database, workspace.id, "gift")] == [article_id]
    async with database.session() as session:  # not through this process's service
        await session.execute(
            text("UPDATE knowledge_articles SET status = 'draft' WHERE id = :id"),
            {"id": article_id},
        )
    assert [hit.article_id for hit in await _search(database, workspace.id, "gift")] == [article_id]
    recent_clock.advance(SETTINGS_SECONDS + 0.1)
    assert await _search(database, workspace.id, "gift") == []


async def test_an_edited_article_is_searched_by_its_new_text(database: Database) -> None:
    workspace = await make_workspace(database)
    article_id = await make_article(database, workspace.id, "Gift cards", "They never expire.")
    assert len(await _search(database, workspace.id, "vouchers")) == 0
    async with database.session() as session:
        change = ArticleUpdate(body="Vouchers and gift cards never expire.")
        await articles.update(session, workspace.id, article_id, change)
    hits = await _search(database, workspace.id, "vouchers")
    assert [hit.article_id for hit in hits] == [article_id]


async def _translated(database: Database, workspace_id: str) -> tuple[str, str, str]:
    english = await make_article(
        database, workspace_id, "Shipping", "Parcels ship in two days.", slug="shipping"
    )
    german = await make_article(
        database,
        workspace_id,
        "Versand",
        "Pakete gehen in zwei Tagen raus.",
        slug="versand",
        locale="de",
        translation_of=english,
    )
    only_english = await make_article(
        database, workspace_id, "Parcels abroad", "Parcels abroad take a week.", slug="abroad"
    )
    return english, german, only_english


async def test_a_locale_prefers_its_version_and_falls_back_to_the_default(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    _, german, only_english = await _translated(database, workspace.id)
    hits = await _search(database, workspace.id, "Pakete parcels", locale="de")
    assert sorted((hit.article_id, hit.locale) for hit in hits) == sorted(
        [(german, "de"), (only_english, "en")]
    )


async def test_a_regional_locale_uses_its_language(database: Database) -> None:
    workspace = await make_workspace(database)
    _, german, _ = await _translated(database, workspace.id)
    hits = await _search(database, workspace.id, "Pakete", locale="de-AT")
    assert [(hit.article_id, hit.url) for hit in hits] == [
        (german, f"/help/{workspace.slug}/de/versand")
    ]


async def test_without_a_locale_each_article_appears_once(database: Database) -> None:
    workspace = await make_workspace(database)
    english, german, _ = await _translated(database, workspace.id)
    hits = await _search(database, workspace.id, "Pakete ship two days")
    groups = [hit.article_id for hit in hits if hit.article_id in (english, german)]
    assert len(groups) == 1


async def test_the_default_locale_is_the_workspaces_choice(database: Database) -> None:
    workspace = await make_workspace(database)
    _, german, _ = await _translated(database, workspace.id)
    async with database.session() as session:
        await articles.set_default_locale(session, workspace.id, "de")
    hits = await _search(database, workspace.id, "Pakete", locale="fr")
    assert [hit.article_id for hit in hits] == [german]


@pytest.mark.parametrize("query", ["", "   "])
async def test_an_empty_query_finds_nothing(database: Database, query: str) -> None:
    workspace = await make_workspace(database)
    await make_search_set(database, workspace.id)
    assert await _search(database, workspace.id, query) == []


async def test_stop_words_match_no_article_by_words(database: Database) -> None:
    workspace = await make_workspace(database)
    await make_search_set(database, workspace.id)
    hits = await _search(database, workspace.id, "the and of")
    assert [hit.keyword_score for hit in hits] == [0.0] * len(hits)


@pytest.mark.parametrize(
    "query", ["¿La camisa de lino es transparente?", "Est-ce que la chemise est transparente ?"]
)
def test_french_and_spanish_function_words_match_nothing(query: str) -> None:
    # Words no article holds are left out of the score, so "de" or "la" alone once made any
    # Spanish article a full keyword match for a question about something else.
    shipping = ranking.document("Envíos", "Enviamos de lunes a viernes. La entrega es rápida.")
    returns = ranking.document("Retours", "Est-ce que je peux retourner la commande ?")
    assert ranking.keyword_scores(query, [shipping, returns]) == [0.0, 0.0]


async def test_a_very_long_query_is_answered(database: Database) -> None:
    workspace = await make_workspace(database)
    ids = await make_search_set(database, workspace.id)
    hits = await _search(database, workspace.id, "Klarna " + "x" * 100_000)
    assert hits[0].article_id == ids["payment-methods"]


async def test_a_query_the_shared_embedder_remembers_is_not_embedded_again(
    database: Database,
) -> None:
    from rapport.knowledge.embedding import use_embedder
    from rapport.nlp.embeddings import RememberingEmbedder
    from rapport.nlp.fakes import FakeEmbedder
    from rapport.nlp.ports import Vectors

    class Counting(FakeEmbedder):
        calls = 0

        def embed(self, texts: Sequence[str]) -> Vectors:
            Counting.calls += 1
            return super().embed(texts)

    workspace = await make_workspace(database)
    use_embedder(FakeEmbedder())  # the articles' vectors
    await make_search_set(database, workspace.id)
    shared = RememberingEmbedder(Counting())
    use_embedder(shared)
    shared.embed(["Klarna"])  # as the assistant's labels do before its search
    hits = await _search(database, workspace.id, "Klarna")
    assert (hits[0].slug, Counting.calls) == ("payment-methods", 1)


async def test_the_model_is_loaded_on_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # Loading MiniLM reads (and the first time builds) files: never on the event loop.
    loaded_on: list[int] = []

    def loading() -> FakeEmbedder:
        loaded_on.append(threading.get_ident())
        return FakeEmbedder()

    use_embedder(None)
    monkeypatch.setattr(embedding, "shared_embedder", loading)
    vectors, _ = await embedding.embed(["where is my parcel"])
    assert vectors.shape[0] == 1
    assert len(loaded_on) == 1 and loaded_on[0] != threading.get_ident()


SNIPPET_TEXT = "Orders leave in a day. Parcels are tracked. Refunds take a week."


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The query word that comes first in the text counts, whatever the query's order.
        ("refund parcel", "Parcels are tracked. Refunds take a week."),
        ("Refünds", "Refunds take a week."),  # accents and a plural read as the plain word
        ("gift cards", SNIPPET_TEXT),  # no word found: from the start
        ("the a of", SNIPPET_TEXT),  # stop words alone find nothing
    ],
)
def test_a_snippet_starts_at_the_sentence_of_the_first_query_word(
    query: str, expected: str
) -> None:
    starts = ranking.word_starts(SNIPPET_TEXT)
    assert ranking.snippet(SNIPPET_TEXT, starts, query) == expected


def test_a_long_snippet_is_cut_at_a_word() -> None:
    starts = ranking.word_starts(SNIPPET_TEXT)
    assert ranking.snippet(SNIPPET_TEXT, starts, "orders", limit=20) == "Orders leave in a…"


def test_tags_count_as_title_words() -> None:
    tagged = ranking.document("Versandzeiten", "Wir versenden werktags.", tags=["Lieferung"])
    untagged = ranking.document("Versandzeiten", "Wir versenden werktags.")
    other = ranking.document("Rücksendung", "Bitte zurückschicken.")
    assert ranking.keyword_scores("Lieferung", [tagged, other]) == [1.0, 0.0]
    assert ranking.keyword_scores("Lieferung", [untagged, other]) == [0.0, 0.0]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Was kostet der Versand?", [0.0, 1.0, 0.0]),  # begins "Versandzeiten"
        ("Ist die Tasche waschbar?", [1.0, 0.0, 0.0]),  # ends "Tragetasche"
        ("refund", [0.0, 0.0, 1.0]),  # begins "refunded"
        ("ship", [0.0, 0.0, 0.0]),  # too short to be a part ("shipping")
        ("Does the dress come in red?", [0.0, 0.0, 0.0]),  # "ad-dress": no compound's front
        ("I want to change my order", [0.0, 0.0, 0.0]),  # "ex-change"
        ("order 12345", [0.0, 0.0, 0.0]),  # a number is no part of "+49 40 1234567"
    ],
)
def test_a_word_no_article_holds_counts_where_it_begins_or_ends_one(
    query: str, expected: list[float]
) -> None:
    documents = [
        ranking.document("Tragetasche", "Robust, aus Canvas."),
        ranking.document("Versandzeiten", "Wir versenden werktags."),
        ranking.document(
            "Money back",
            "Money is refunded in five days to your address, or exchanges are free. "
            "Call +49 40 1234567.",
        ),
    ]
    scores = ranking.keyword_scores(query, documents)
    assert [1.0 if score > 0 else 0.0 for score in scores] == expected


def test_a_word_held_whole_is_not_looked_for_in_parts() -> None:
    whole = ranking.document("Versand", "Wir versenden werktags.")
    compound = ranking.document("Versandkosten", "Ab 50 € kostenlos.")
    assert ranking.keyword_scores("Versand", [whole, compound])[1] == 0.0


def test_a_pasted_paragraph_of_unknown_words_looks_for_few_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    documents = [ranking.document("Versandzeiten", "Wir versenden werktags.")] * 3
    unknown = " ".join(f"unknownword{chr(97 + number % 26)}" * 2 for number in range(200))
    looked_for: list[str] = []
    counting = ranking.part_count

    def counted(doc: ranking.Document, term: str) -> int:
        looked_for.append(term)
        return counting(doc, term)

    monkeypatch.setattr(ranking, "part_count", counted)
    assert ranking.keyword_scores(unknown, documents) == [0.0, 0.0, 0.0]
    assert len(set(looked_for)) == ranking.MAX_PARTS


def test_question_words_match_no_article() -> None:
    # "cuánto" (how much) met "en cuanto" (as soon as) in the tracking sentence of the
    # shipping article, and its snippet started there.
    shipping = ranking.document("Envíos", "Recibirá un correo en cuanto el paquete salga.")
    assert ranking.keyword_scores("¿Cuánto?", [shipping]) == [0.0]


LINES = (
    "We ship on weekdays. Delivery takes:\n- Germany: 1-2 days\n- EU: 3-5 days\n"
    "Orders placed before 2 pm leave the same day."
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # A word in a list starts the snippet at the line leading into it.
        ("EU", LINES[len("We ship on weekdays. ") :]),
        ("orders", "Orders placed before 2 pm leave the same day."),
        ("weekdays", LINES),
    ],
)
def test_a_snippet_keeps_the_articles_lines(query: str, expected: str) -> None:
    assert ranking.snippet(LINES, ranking.word_starts(LINES), query) == expected


def test_a_long_snippet_ends_after_its_last_whole_line() -> None:
    snippet = ranking.snippet(LINES, ranking.word_starts(LINES), "weekdays", limit=90)
    assert snippet == (
        "We ship on weekdays. Delivery takes:\n- Germany: 1-2 days\n- EU: 3-5 days\n…"
    )  # "…": more follows (a table cut at France would read as every country)


def test_a_word_far_down_a_list_starts_the_snippet_at_its_line() -> None:
    topics = "\n".join(f"- Topic {number}: shipping, returns, packaging." for number in range(9))
    text = f"Our FAQ covers these topics:\n{topics}\n- Topic 9: warranty claims.\nEnd."
    snippet = ranking.snippet(text, ranking.word_starts(text), "warranty claims", limit=120)
    assert snippet == "- Topic 9: warranty claims.\nEnd."
