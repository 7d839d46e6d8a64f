"""The public help center: only published articles of its own workspace, safe markdown,
the page's language (the visitor's browser's when the address names none, its own words in
it), and searches limited per address."""

from __future__ import annotations

import re

import httpx
import pytest

from rapport.core.db import Database
from rapport.core.languages import MAX_TAGS, accepted_languages, best_language
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
    assert f"<title>Versand · {workspace.name} \u2013 Hilfe-Center</title>" in response.text
    assert "← Alle Artikel</a>" in response.text and "Aktualisiert am 20" in response.text
    assert "vary" not in response.headers  # the address names the article's language
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


async def _three_locales(database: Database) -> str:
    workspace = await make_workspace(database)
    await make_article(database, workspace.id, "Shipping", slug="shipping")
    await make_article(database, workspace.id, "Versand", slug="versand", locale="de")
    await make_article(database, workspace.id, "Envíos", slug="envios", locale="es-MX")
    return workspace.slug


@pytest.mark.parametrize(
    ("accept", "locale", "heading"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de", "Wie können wir helfen?"),
        ("de-AT", "de", "Wie können wir helfen?"),  # its language alone
        ("fr-CH, fr;q=0.9, de;q=0.5", "de", "Wie können wir helfen?"),  # no French: the next
        ("en;q=0.5, de;q=0.9", "de", "Wie können wir helfen?"),  # by weight, not order
        ("es", "es-MX", "¿En qué podemos ayudarle?"),  # a regional form of the language
        ("fr", "en", "How can we help?"),  # none of them: the workspace's default
        ("de;q=0, en", "en", "How can we help?"),  # q=0 means "not this one"
        ("*", "en", "How can we help?"),
        ("", "en", "How can we help?"),
        ("de;q=bogus, ;;, 12-3, x" + "x" * 5000, "en", "How can we help?"),  # junk
        ("fr;q=0.1," + " " * 600 + "de", "en", "How can we help?"),  # read to 500 characters
        ("de;Q=0.9, en;q=0.5", "de", "Wie können wir helfen?"),  # "Q" is "q" (RFC 5234)
    ],
)
async def test_the_index_speaks_the_browsers_language_when_the_address_names_none(
    client: httpx.AsyncClient, database: Database, accept: str, locale: str, heading: str
) -> None:
    slug = await _three_locales(database)
    response = await client.get(f"/help/{slug}", headers={"Accept-Language": accept})
    assert response.status_code == 200
    assert f'<html lang="{locale}">' in response.text and f"<h1>{heading}</h1>" in response.text
    assert response.headers["content-language"] == locale
    assert response.headers["vary"] == "Accept-Language"
    assert response.headers["cache-control"] == "private"


async def test_the_address_names_the_locale_over_the_browser(
    client: httpx.AsyncClient, database: Database
) -> None:
    slug = await _three_locales(database)
    response = await client.get(f"/help/{slug}?locale=en", headers={"Accept-Language": "de"})
    assert '<html lang="en">' in response.text and "<h1>How can we help?</h1>" in response.text
    assert "vary" not in response.headers
    searched = await client.get(f"/help/{slug}?locale=de&q=Versand")
    assert "Ergebnisse für „Versand“" in searched.text and "/help/" + slug + "/de/versand" in (
        searched.text
    )
    assert 'placeholder="Artikel durchsuchen"' in searched.text


@pytest.mark.parametrize("asked", ["fr", "xx-!!", ""])
async def test_a_locale_the_help_center_lacks_falls_back_to_the_browsers(
    client: httpx.AsyncClient, database: Database, asked: str
) -> None:
    slug = await _three_locales(database)
    response = await client.get(f"/help/{slug}?locale={asked}", headers={"Accept-Language": "de"})
    assert '<html lang="de">' in response.text
    assert response.headers["vary"] == "Accept-Language"


async def test_untagged_articles_are_general_in_the_pages_language_after_the_tags(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    await make_article(database, workspace.id, "Versand", slug="versand", locale="de")
    await make_article(
        database, workspace.id, "Größen", slug="groessen", locale="de", tags=["Mode"]
    )
    for title, slug, tag in (("Extra", "extra", "General"), ("Mehr", "mehr", "allgemein")):
        await make_article(database, workspace.id, title, slug=slug, locale="de", tags=[tag])
    await make_article(database, workspace.id, "Maße", slug="masse", locale="de", tags=["mode"])
    response = await client.get(f"/help/{workspace.slug}?locale=de")
    headings = re.findall(r'<h2 id="tag-\d+">([^<]+)</h2>', response.text)
    # "allgemein" joins the untagged under the page's word; tags differ by more than case.
    assert headings == ["General", "Mode", "Allgemein"]
    general = response.text.split("Allgemein</h2>")[1]
    assert "/de/versand" in general and "/de/mehr" in general
    assert "/de/masse" not in general


async def test_a_missing_page_speaks_the_browsers_language(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.get("/help/no-such-workspace", headers={"Accept-Language": "fr-FR"})
    assert response.status_code == 404 and '<html lang="fr">' in response.text
    assert "<h1>Page introuvable</h1>" in response.text
    assert "Cette page n&#39;existe pas dans ce centre d&#39;aide." in response.text
    assert response.headers["vary"] == "Accept-Language"
    assert response.headers["cache-control"] == "no-store"


def test_accept_language_is_read_by_weight_and_bounded() -> None:
    assert accepted_languages("da, en-GB;q=0.8, en;q=0.7") == ["da", "en-gb", "en"]
    assert accepted_languages("en;q=0.7, de;Q=0.9") == ["de", "en"]
    assert accepted_languages("en;q=1.5, de;q=-1, fr;q=0.500, es;q=1.000") == ["es", "fr"]
    assert accepted_languages(",".join(["de"] * 1000)) == ["de"] * MAX_TAGS
    assert accepted_languages(None) == [] and accepted_languages("*;q=0.5") == []
    assert best_language(["pt-br", "pt"], ["en", "pt-BR"]) == "pt-BR"
    assert best_language(["pt-pt"], ["en", "pt-BR"]) == "pt-BR"
    assert best_language(["nl"], ["en", "de"]) is None
    # RFC 4647 lookup: shorter forms of each wanted tag first, any regional form only after
    # every wanted language was tried in those forms.
    assert best_language(["zh-hant-tw", "zh"], ["zh-Hans", "zh-Hant"]) == "zh-Hant"
    assert best_language(["zh-tw", "zh", "en"], ["zh-Hans", "zh-Hant", "en"]) == "en"
    assert best_language(["pt-pt", "en"], ["pt-BR", "en"]) == "en"
