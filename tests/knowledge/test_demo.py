"""The demo workspace's sample knowledge base."""

from __future__ import annotations

import pytest

from rapport.core.db import Database
from rapport.knowledge.demo import DEMO_ARTICLES, seed_demo
from rapport.knowledge.enums import ArticleStatus
from rapport.knowledge.service import articles, search
from rapport.nlp.ports import Embedder
from tests.fixtures.identity import make_workspace


async def test_the_sample_articles_are_added_once(database: Database) -> None:
    workspace = await make_workspace(database)
    async with database.session() as session:
        first = await seed_demo(session, workspace.id)
    async with database.session() as session:
        again = await seed_demo(session, workspace.id)
        listed = await articles.page(session, workspace.id, limit=50)
    assert (first, again, len(listed.items)) == (len(DEMO_ARTICLES), 0, len(DEMO_ARTICLES))
    assert {a.status for a in listed.items} == {ArticleStatus.published}
    assert sorted({a.locale for a in listed.items}) == ["de", "en", "es", "fr"]


async def test_the_other_samples_translate_the_english_ones(database: Database) -> None:
    workspace = await make_workspace(database)
    async with database.session() as session:
        await seed_demo(session, workspace.id)
        listed = (await articles.page(session, workspace.id, limit=50)).items
    group_of = {(a.locale, a.slug): a.translation_group_id for a in listed}
    assert group_of[("de", "versand")] == group_of[("en", "shipping-times")]
    assert group_of[("de", "zahlungsarten")] == group_of[("en", "payment-methods")]
    assert group_of[("fr", "livraison")] == group_of[("en", "shipping-times")]
    assert group_of[("es", "devoluciones-y-reembolsos")] == group_of[("en", "returns-and-refunds")]


async def test_a_german_search_answers_in_german_and_falls_back_to_english(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    async with database.session() as session:
        await seed_demo(session, workspace.id)
        returns = await search(session, workspace.id, "Rücksendung", locale="de", limit=1)
        tracking = await search(session, workspace.id, "tracking", locale="de", limit=1)
    assert [(hit.slug, hit.locale) for hit in returns] == [("ruecksendung-und-erstattung", "de")]
    assert [(hit.slug, hit.locale) for hit in tracking] == [("track-your-order", "en")]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("where is my parcel", "track-your-order"),
        ("is there free delivery", "shipping-times"),
        ("I need a refund", "returns-and-refunds"),
        ("do you take paypal", "payment-methods"),
        ("what size should I order", "size-guide"),
        ("my package is late", "track-your-order"),
    ],
)
async def test_a_newcomers_questions_find_the_right_sample(
    database: Database, minilm: Embedder, question: str, expected: str
) -> None:
    workspace = await make_workspace(database)
    async with database.session() as session:
        await seed_demo(session, workspace.id)
        hits = await search(session, workspace.id, question, locale="en", limit=1)
    assert [hit.slug for hit in hits] == [expected]
