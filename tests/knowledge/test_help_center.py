"""The public help center: only published articles of its own workspace, safe markdown,
the page's language, and searches limited per address."""

from __future__ import annotations

import re

import httpx
import pytest

from rapport.core.db import Database
from rapport.core.ratelimit import RateLimiter
from rapport.knowledge import help_endpoints
from rapport.knowledge.embedding import use_embedder
from rapport.knowledge.enums import ArticleStatus
from tests.fixtures.identity import make_workspace
from tests.fixtures.knowledge import UpgradedEmbedder, make_article


def _links(html: str) -> list[str]:
    return re.findall(r'<a href="(/help/[^"]+)"', html)


async def test_the_index_lists_published_articles_by_tag(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    await make_article(database, workspace.id, "Shipping", slug="shipping", tags=["Delivery"])
    await make_article(database, workspace.id, "Secret", slug="secret", status=ArticleStatus.draft)
    response = await client.get(f"/help/{workspace.slug}")
    assert response.status_code == 200
    assert _links(response.text) == [
        f"/help/{workspace.slug}?locale=en",
        f"/help/{workspace.slug}/en/shipping",
    ]
    assert '<h2 id="tag-1">Delivery</h2>' in response.text


async def test_an_article_page_has_its_title_and_language(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    english = await make_article(database, workspace.id, "Shipping", slug="shipping")
    await make_article(
        database, workspace.id, "Versand", slug="versand", locale="de", translation_of=english
    )
    response = await client.get(f"/help/{workspace.slug}/de/versand")
    assert response.status_code == 200
    assert '<html lang="de">' in response.text
    assert f"<title>Versand · {workspace.name} help center</title>" in response.text
    assert f'<a href="/help/{workspace.slug}/en/shipping" lang="en"' in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/help/{slug}/en/draft",  # a draft
        "/help/{other}/en/shipping",  # another workspace's article under its own slug
        "/help/{slug}/en/theirs",  # another workspace's slug under this one
        "/help/no-such-workspace",
        "/help/{slug}/en/no-such-article",
        "/help/{slug}/not_a_locale/shipping",
    ],
)
async def test_drafts_and_other_workspaces_are_404(
    client: httpx.AsyncClient, database: Database, path: str
) -> None:
    workspace, other = await make_workspace(database), await make_workspace(database)
    await make_article(database, workspace.id, "Draft", slug="draft", status=ArticleStatus.draft)
    await make_article(database, other.id, "Theirs", slug="theirs")
    await make_article(database, workspace.id, "Shipping", slug="shipping")
    response = await client.get(path.format(slug=workspace.slug, other=other.slug))
    assert (response.status_code, "<h1>Not found</h1>" in response.text) == (404, True)


async def test_a_workspace_without_published_articles_is_404_like_no_workspace(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Guessing slugs must not tell which workspaces exist."""
    workspace = await make_workspace(database)
    await make_article(database, workspace.id, "Draft", slug="draft", status=ArticleStatus.draft)
    existing = await client.get(f"/help/{workspace.slug}")
    missing = await client.get("/help/no-such-workspace")
    assert (existing.status_code, existing.text) == (404, missing.text)


async def test_a_search_shows_published_hits_only(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    await make_article(database, workspace.id, "Gift cards", "Never expire.", slug="gift-cards")
    await make_article(
        database, workspace.id, "Gift wrap", "Soon.", slug="wrap", status=ArticleStatus.draft
    )
    response = await client.get(f"/help/{workspace.slug}?q=gift")
    results = response.text.split('id="results-heading"')[1].split("</section>")[0]
    assert _links(results) == [f"/help/{workspace.slug}/en/gift-cards"]


async def test_a_search_holds_no_connection_while_the_model_runs(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    await make_article(database, workspace.id, "Gift cards", "Never expire.", slug="gift-cards")
    upgraded = UpgradedEmbedder(database)  # the article's vector is now another model's
    use_embedder(upgraded)
    for _ in range(2):  # the second search embeds the article again too
        response = await client.get(f"/help/{workspace.slug}?q=gift")
        assert "/gift-cards" in response.text
    assert len(upgraded.held) == 3 and set(upgraded.held) == {0}


async def test_searches_are_limited_per_address(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(help_endpoints, "search_limiter", RateLimiter(1 / 60, 2))
    workspace = await make_workspace(database)
    await make_article(database, workspace.id, "Gift cards", slug="gift-cards")
    answers = [(await client.get(f"/help/{workspace.slug}?q=gift")) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert "Too many searches; try again shortly." in answers[2].text


@pytest.mark.parametrize(
    ("markdown", "absent", "present"),
    [
        ("<script>alert(1)</script>", "<script>alert", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("[click](javascript:alert(1))", 'href="javascript:', "[click](javascript:alert(1))"),
        ("<img src=x onerror=alert(1)>", "<img src=x", "&lt;img src=x onerror=alert(1)&gt;"),
        (
            "[site](https://example.com)",
            'href="https://example.com">',
            '<a href="https://example.com" rel="nofollow noopener">site</a>',
        ),
    ],
)
async def test_markdown_is_rendered_safely(
    client: httpx.AsyncClient, database: Database, markdown: str, absent: str, present: str
) -> None:
    workspace = await make_workspace(database)
    await make_article(database, workspace.id, "Page", markdown, slug="page")
    response = await client.get(f"/help/{workspace.slug}/en/page")
    assert (absent in response.text, present in response.text) == (False, True)


async def test_the_locale_switch_lists_published_locales(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    await make_article(database, workspace.id, "Shipping", slug="shipping")
    await make_article(database, workspace.id, "Versand", slug="versand", locale="de")
    response = await client.get(f"/help/{workspace.slug}?locale=de")
    assert '<html lang="de">' in response.text
    assert _links(response.text) == [
        f"/help/{workspace.slug}?locale=de",
        f"/help/{workspace.slug}?locale=de",
        f"/help/{workspace.slug}?locale=en",
        f"/help/{workspace.slug}/de/versand",
    ]
