"""The articles API: who may call each endpoint, and what it answers."""

from __future__ import annotations

import httpx
import pytest

from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from rapport.identity.models import Workspace
from rapport.knowledge.enums import ArticleStatus
from tests.fixtures.authorization import Case, call_case, case_name
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.knowledge import make_article, make_product_sheet
from tests.fixtures.sessions import session_headers, sign_in

READ, WRITE = Scope.knowledge_read, Scope.knowledge_write
CASES = [
    Case("GET", "/api/v1/articles", READ),
    Case("POST", "/api/v1/articles", WRITE, 201, {"title": "Gift cards", "body": "Never expire."}),
    Case("GET", "/api/v1/articles/search?q=shipping", READ),
    Case("GET", "/api/v1/articles/{article}", READ),
    Case("PATCH", "/api/v1/articles/{article}", WRITE, json={"status": "draft"}),
    Case("DELETE", "/api/v1/articles/{article}", WRITE, 204),
    Case("GET", "/api/v1/knowledge-settings", READ),
    Case("PUT", "/api/v1/knowledge-settings", WRITE, json={"default_locale": "de"}),
    Case("GET", "/api/v1/product-sheets", READ),
    Case("GET", "/api/v1/product-sheets/search?q=what+is+the+linen+shirt+material", READ),
    Case("PUT", "/api/v1/product-sheets/tote-bag/en", WRITE, 201, {"name": "Tote bag"}),
    Case("GET", "/api/v1/product-sheets/{sheet}/en", READ),
    Case("DELETE", "/api/v1/product-sheets/{sheet}/en", WRITE, 204),
]
ROLE_FOR = {READ: Role.agent, WRITE: Role.supervisor}


async def _ids(database: Database, workspace: Workspace) -> dict[str, str]:
    await make_product_sheet(database, workspace.id, "linen-shirt")
    return {
        "article": await make_article(database, workspace.id, "Shipping", "Two days."),
        "sheet": "linen-shirt",
    }


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_anonymous_is_401(client: httpx.AsyncClient, database: Database, case: Case) -> None:
    workspace = await make_workspace(database)
    response = await call_case(client, case, await _ids(database, workspace), {})
    assert (response.status_code, response.json()["error"]) == (401, "NotSignedIn")


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_wrong_scope_is_403(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    ids = await _ids(database, workspace)
    secret = await make_api_key(database, workspace, [s for s in Scope if s != case.scope])
    response = await call_case(client, case, ids, bearer(secret))
    assert response.json() == {
        "error": "MissingScope",
        "detail": f"This needs the scope(s): {case.scope}.",
    }


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_other_workspace_is_404_or_sees_nothing(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    ids = await _ids(database, await make_workspace(database))
    stranger = bearer(await make_api_key(database, await make_workspace(database)))
    response = await call_case(client, case, ids, stranger)
    if "{" in case.path:
        assert response.status_code == 404, response.text
    elif case.method == "GET" and "settings" not in case.path:
        assert response.json() in ([], {"items": [], "next_cursor": None})
    else:  # their own workspace's settings or a new article of their own
        assert response.status_code == case.ok


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_the_role_that_holds_the_scope_succeeds(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    ids = await _ids(database, workspace)
    account = await make_staff(database, workspace, ROLE_FOR[case.scope])
    headers = session_headers((await sign_in(database, account)).token)
    response = await call_case(client, case, ids, headers)
    assert response.status_code == case.ok, response.text


async def test_an_agent_may_not_write_articles(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace, Role.agent)
    headers = session_headers((await sign_in(database, account)).token)
    response = await client.post("/api/v1/articles", json={"title": "X"}, headers=headers)
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")


async def _writer(database: Database) -> tuple[Workspace, dict[str, str]]:
    workspace = await make_workspace(database)
    return workspace, bearer(await make_api_key(database, workspace, [READ, WRITE]))


async def test_an_article_is_created_as_a_draft_with_a_slug_from_its_title(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _writer(database)
    body = {"title": "Größen & Passform", "body": "**M** fits", "locale": "DE-at", "tags": ["a"]}
    response = await client.post("/api/v1/articles", json=body, headers=headers)
    found = response.json()
    assert (response.status_code, found["slug"], found["locale"], found["status"]) == (
        201,
        "groessen-passform",
        "de-AT",
        "draft",
    )
    assert (found["published_at"], found["author"].startswith("api_key:")) == (None, True)


async def test_a_taken_slug_in_the_same_locale_is_409(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _writer(database)
    body = {"title": "Shipping", "slug": "shipping"}
    await client.post("/api/v1/articles", json=body, headers=headers)
    again = await client.post("/api/v1/articles", json=body, headers=headers)
    other_locale = await client.post(
        "/api/v1/articles", json={**body, "locale": "de"}, headers=headers
    )
    assert (again.status_code, again.json()["error"], other_locale.status_code) == (
        409,
        "SlugTaken",
        201,
    )


async def test_titles_deriving_the_same_slug_get_numbered_slugs(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _writer(database)
    slugs = []
    for title in ("Доставка", "配送について", "Доставка"):
        response = await client.post(
            "/api/v1/articles", json={"title": title, "locale": "ru"}, headers=headers
        )
        slugs.append((response.status_code, response.json()["slug"]))
    assert slugs == [(201, "article"), (201, "article-2"), (201, "article-3")]


async def test_a_translation_shares_the_group_and_one_per_locale(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _writer(database)
    english = await client.post("/api/v1/articles", json={"title": "Sizes"}, headers=headers)
    original = english.json()
    body = {"title": "Größen", "locale": "de", "translation_of": original["id"]}
    german = await client.post("/api/v1/articles", json=body, headers=headers)
    twice = await client.post(
        "/api/v1/articles", json={**body, "slug": "groessen"}, headers=headers
    )
    assert german.json()["translation_group_id"] == original["translation_group_id"]
    assert (twice.status_code, twice.json()["error"]) == (409, "TranslationExists")


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "X", "locale": "english!"},
        {"title": "X", "slug": "Not A Slug"},
        {"title": "X", "body": "x" * 100_001},
        {"title": "X", "status": "archived"},
        {"title": "X", "tags": ["t"] * 21},
    ],
)
async def test_bad_articles_are_422(
    client: httpx.AsyncClient, database: Database, body: dict[str, object]
) -> None:
    _, headers = await _writer(database)
    response = await client.post("/api/v1/articles", json=body, headers=headers)
    assert (response.status_code, response.json()["error"]) == (422, "ValidationError")


async def test_search_answers_hits_and_refuses_a_bad_locale(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, headers = await _writer(database)
    article_id = await make_article(database, workspace.id, "Gift cards", "Never expire.")
    found = await client.get("/api/v1/articles/search?q=gift+cards", headers=headers)
    bad = await client.get("/api/v1/articles/search?q=gift&locale=xx_YY!", headers=headers)
    assert [hit["article_id"] for hit in found.json()] == [article_id]
    assert (bad.status_code, bad.json()["error"]) == (400, "BadRequest")


async def test_publishing_sets_the_time_and_the_list_filters_by_status(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, headers = await _writer(database)
    draft = await make_article(database, workspace.id, "Draft", status=ArticleStatus.draft)
    patched = await client.patch(
        f"/api/v1/articles/{draft}", json={"status": "published"}, headers=headers
    )
    listed = await client.get("/api/v1/articles?status=draft", headers=headers)
    assert (patched.json()["status"], patched.json()["published_at"] is not None) == (
        "published",
        True,
    )
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_the_list_pages_by_cursor(client: httpx.AsyncClient, database: Database) -> None:
    workspace, headers = await _writer(database)
    ids = [await make_article(database, workspace.id, f"Article {n}") for n in range(3)]
    first = (await client.get("/api/v1/articles?limit=2", headers=headers)).json()
    second = await client.get(
        f"/api/v1/articles?limit=2&cursor={first['next_cursor']}", headers=headers
    )
    seen = [item["id"] for item in first["items"] + second.json()["items"]]
    assert (seen, second.json()["next_cursor"]) == (ids[::-1], None)
