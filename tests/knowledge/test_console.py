"""The console's knowledge pages: write, preview, publish, delete, search, and the
"Suggested articles" panel of a conversation."""

from __future__ import annotations

import re

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from rapport.knowledge.enums import ArticleStatus
from rapport.knowledge.service import articles
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.knowledge import make_article
from tests.fixtures.support_console import open_conversation
from tests.web.console import csrf_of, sign_in


async def _signed_in(
    client: httpx.AsyncClient, database: Database, role: Role = Role.supervisor
) -> tuple[Workspace, str]:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace, role)
    await sign_in(client, account.email, account.password)
    return workspace, csrf_of((await client.get("/console/settings/profile")).text)


async def _status(database: Database, workspace_id: str, article_id: str) -> ArticleStatus:
    async with database.session() as session:
        return (await articles.get(session, workspace_id, article_id)).status


async def test_a_new_article_is_saved_as_a_draft(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    form = {
        "csrf_token": token,
        "title": "Gift cards",
        "body": "They *never* expire.",
        "locale": "en",
        "tags": "Payment, Gifts",
    }
    response = await client.post("/console/knowledge", data=form)
    article_id = response.headers["location"].rsplit("/", 1)[1]
    page = (await client.get(f"/console/knowledge/{article_id}")).text
    assert response.status_code == 303
    assert await _status(database, workspace.id, article_id) == ArticleStatus.draft
    assert '<div class="article-preview"><p>They <em>never</em> expire.</p>' in page
    assert 'value="Payment, Gifts"' in page


async def test_publish_unpublish_and_delete(client: httpx.AsyncClient, database: Database) -> None:
    workspace, token = await _signed_in(client, database)
    article_id = await make_article(database, workspace.id, status=ArticleStatus.draft)
    base = f"/console/knowledge/{article_id}"
    await client.post(f"{base}/status", data={"csrf_token": token, "status": "published"})
    published = await _status(database, workspace.id, article_id)
    await client.post(f"{base}/status", data={"csrf_token": token, "status": "draft"})
    unpublished = await _status(database, workspace.id, article_id)
    deleted = await client.post(f"{base}/delete", data={"csrf_token": token})
    gone = await client.get(base)
    assert (published, unpublished) == (ArticleStatus.published, ArticleStatus.draft)
    assert (deleted.status_code, gone.status_code) == (303, 404)


async def test_a_bad_form_shows_an_error_and_changes_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    form = {"csrf_token": token, "title": "X", "locale": "not a locale"}
    response = await client.post("/console/knowledge", data=form)
    assert response.status_code == 422
    assert "Check the locale field" in response.text
    async with database.session() as session:
        assert (await articles.page(session, workspace.id)).items == []


async def test_the_preview_renders_markdown_safely(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, token = await _signed_in(client, database, Role.agent)
    response = await client.post(
        "/console/knowledge-preview",
        data={"body": "**hi** <script>x</script>"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.text.strip() == (
        '<div class="article-preview"><p><strong>hi</strong> &lt;script&gt;x&lt;/script&gt;</p>\n'
        "</div>"
    )


async def test_an_agent_reads_but_may_not_write(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database, Role.agent)
    article_id = await make_article(database, workspace.id)
    listed = await client.get("/console/knowledge")
    refused = await client.post(
        f"/console/knowledge/{article_id}/delete", data={"csrf_token": token}
    )
    assert (listed.status_code, "New article" in listed.text) == (200, False)
    assert refused.status_code == 403


async def test_the_console_search_finds_drafts(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _ = await _signed_in(client, database)
    article_id = await make_article(
        database, workspace.id, "Gift cards", status=ArticleStatus.draft
    )
    page = (await client.get("/console/knowledge?q=gift")).text
    results = page.split('id="hits-heading"')[1].split("</section>")[0]
    assert re.findall(r'href="/console/knowledge/([0-9a-f]{32})"', results) == [article_id]


async def test_suggestions_match_the_last_customer_message(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _ = await _signed_in(client, database, Role.agent)
    await make_article(
        database, workspace.id, "Gift cards", "Gift cards never expire.", slug="gift-cards"
    )
    await make_article(
        database, workspace.id, "Shipping", "Parcels ship in two days.", slug="shipping"
    )
    conversation_id = await open_conversation(database, workspace.id, "Do gift cards expire?")
    panel = (await client.get(f"/console/knowledge-suggestions/{conversation_id}")).text
    assert re.findall(r'data-url="([^"]+)"', panel) == [f"/help/{workspace.slug}/en/gift-cards"]
    assert 'data-snippet="Gift cards never expire."' in panel


async def test_the_conversation_page_carries_the_panel(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _ = await _signed_in(client, database, Role.agent)
    conversation_id = await open_conversation(database, workspace.id, "Hello")
    page = (await client.get(f"/console/inbox/conversations/{conversation_id}")).text
    assert f'hx-get="/console/knowledge-suggestions/{conversation_id}"' in page


async def test_suggestions_of_another_workspaces_conversation_are_404(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _signed_in(client, database, Role.agent)
    other = await make_workspace(database)
    conversation_id = await open_conversation(database, other.id, "Do gift cards expire?")
    response = await client.get(f"/console/knowledge-suggestions/{conversation_id}")
    assert response.status_code == 404
