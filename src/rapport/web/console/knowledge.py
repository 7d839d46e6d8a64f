"""Console: the knowledge base (list, search, write with a preview, publish, delete, the
default locale) and the "Suggested articles" panel of a conversation's page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Path, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from rapport.core.deps import SessionDep
from rapport.errors import BadRequest, UnprocessableContent
from rapport.identity.enums import Scope
from rapport.knowledge.enums import ArticleStatus
from rapport.knowledge.markdown import render_html
from rapport.knowledge.schemas import (
    ID_PATTERN,
    MAX_BODY,
    ArticleCreate,
    ArticleRead,
    ArticleUpdate,
    normal_locale,
)
from rapport.knowledge.service import articles, search
from rapport.support.enums import AuthorType
from rapport.support.inbox import inbox
from rapport.web.console.context import ConsoleContext, console_requiring
from rapport.web.console.routing import console_router, see_other
from rapport.web.console.support_views import acting_of
from rapport.web.console.templating import page

router = console_router()
ReadConsole = Annotated[ConsoleContext, console_requiring(Scope.knowledge_read)]
WriteConsole = Annotated[ConsoleContext, console_requiring(Scope.knowledge_write)]
AssistConsole = Annotated[
    ConsoleContext, console_requiring(Scope.knowledge_read, Scope.conversations_read)
]
ArticleId = Annotated[str, Path(pattern=ID_PATTERN)]
Text = Annotated[str, Form(max_length=MAX_BODY)]
Short = Annotated[str, Form(max_length=1_000)]
LIST_PAGE = 50
SUGGESTIONS = 3
# Suggestions below this combined score are noise rather than help.
SUGGESTION_MIN_SCORE = 0.2


def _locale_or_none(value: str) -> str | None:
    try:
        return normal_locale(value.strip()) if value.strip() else None
    except ValueError as error:
        raise BadRequest(str(error)) from error


def _tags(value: str) -> list[str]:
    return list(dict.fromkeys(tag.strip() for tag in value.split(",") if tag.strip()))


def _checked(model: type[ArticleCreate] | type[ArticleUpdate], **fields: Any) -> Any:
    try:
        return model(**fields)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        field = str(first["loc"][-1]) if first["loc"] else "form"
        raise UnprocessableContent(f"Check the {field} field: {first['msg']}.") from invalid


@router.get("/knowledge", response_class=HTMLResponse)
async def list_articles(
    ctx: ReadConsole,
    session: SessionDep,
    q: Annotated[str, Query(max_length=300)] = "",
    status: ArticleStatus | None = None,
    locale: Annotated[str, Query(max_length=35)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """List the workspace's articles, or search them (drafts included)."""
    workspace_id = ctx.principal.workspace_id
    chosen = _locale_or_none(locale)
    hits = None
    if q.strip():
        hits = await search(session, workspace_id, q, locale=chosen, limit=20, published_only=False)
    found = await articles.page(
        session, workspace_id, status=status, locale=chosen, cursor=cursor, limit=LIST_PAGE
    )
    return page(
        ctx,
        "knowledge/list.html",
        query=q.strip(),
        hits=hits,
        articles=found.items,
        next_cursor=found.next_cursor,
        status=status or "",
        locale=chosen or "",
        statuses=list(ArticleStatus),
        default_locale=await articles.default_locale(session, workspace_id),
    )


@router.get("/knowledge/new", response_class=HTMLResponse)
async def new_article(
    ctx: WriteConsole,
    session: SessionDep,
    translation_of: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> Response:
    """Show the form for a new article (or a translation of one)."""
    original = None
    if translation_of is not None:
        found = await articles.get(session, ctx.principal.workspace_id, translation_of)
        original = ArticleRead.model_validate(found)
    locale = await articles.default_locale(session, ctx.principal.workspace_id)
    return page(ctx, "knowledge/edit.html", article=None, original=original, locale=locale)


@router.post("/knowledge")
async def create_article(
    ctx: WriteConsole,
    session: SessionDep,
    title: Short = "",
    body: Text = "",
    slug: Short = "",
    locale: Short = "",
    tags: Short = "",
    translation_of: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Save a new article as a draft."""
    created = _checked(
        ArticleCreate,
        title=title,
        body=body,
        slug=slug.strip() or None,
        locale=locale.strip() or None,
        tags=_tags(tags),
        translation_of=translation_of or None,
    )
    author = f"staff:{ctx.user.id}"
    article = await articles.create(session, ctx.principal.workspace_id, created, author=author)
    return see_other(ctx.request, f"/console/knowledge/{article.id}")


@router.get("/knowledge/{article_id}", response_class=HTMLResponse)
async def show_article(ctx: ReadConsole, session: SessionDep, article_id: ArticleId) -> Response:
    """Show an article's editor, its preview and its translations."""
    workspace_id = ctx.principal.workspace_id
    article = ArticleRead.model_validate(await articles.get(session, workspace_id, article_id))
    versions = await articles.translations(
        session, workspace_id, article.translation_group_id, published_only=False
    )
    return page(
        ctx,
        "knowledge/edit.html",
        article=article,
        original=None,
        locale=article.locale,
        preview=render_html(article.body),
        translations=[ArticleRead.model_validate(v) for v in versions if v.id != article.id],
    )


@router.post("/knowledge/{article_id}")
async def update_article(
    ctx: WriteConsole,
    session: SessionDep,
    article_id: ArticleId,
    title: Short = "",
    body: Text = "",
    slug: Short = "",
    tags: Short = "",
) -> Response:
    """Save an article's title, text, slug and tags."""
    change = _checked(
        ArticleUpdate, title=title, body=body, slug=slug.strip() or None, tags=_tags(tags)
    )
    await articles.update(session, ctx.principal.workspace_id, article_id, change)
    return see_other(ctx.request, f"/console/knowledge/{article_id}")


@router.post("/knowledge/{article_id}/status")
async def change_status(
    ctx: WriteConsole,
    session: SessionDep,
    article_id: ArticleId,
    status: Annotated[ArticleStatus, Form()],
) -> Response:
    """Publish an article (it appears in the help center) or take it back to draft."""
    change = ArticleUpdate(status=status)
    await articles.update(session, ctx.principal.workspace_id, article_id, change)
    return see_other(ctx.request, f"/console/knowledge/{article_id}")


@router.post("/knowledge/{article_id}/delete")
async def delete_article(ctx: WriteConsole, session: SessionDep, article_id: ArticleId) -> Response:
    """Delete an article in this locale."""
    await articles.delete(session, ctx.principal.workspace_id, article_id)
    return see_other(ctx.request, "/console/knowledge")


@router.post("/knowledge-preview", response_class=HTMLResponse)
async def preview_article(ctx: ReadConsole, body: Text = "") -> Response:
    """Render markdown as the help center will show it (HTMX)."""
    return page(ctx, "knowledge/_preview.html", preview=render_html(body))


@router.post("/knowledge-settings")
async def save_settings(ctx: WriteConsole, session: SessionDep, default_locale: Short) -> Response:
    """Change the locale searches and the help center fall back to."""
    locale = _locale_or_none(default_locale)
    if locale is None:
        raise UnprocessableContent("Choose a default locale, such as en.")
    await articles.set_default_locale(session, ctx.principal.workspace_id, locale)
    return see_other(ctx.request, "/console/knowledge")


@router.get("/knowledge-suggestions/{conversation_id}", response_class=HTMLResponse)
async def suggest_articles(
    ctx: AssistConsole, session: SessionDep, conversation_id: ArticleId
) -> Response:
    """Suggest published articles for a conversation's last customer message (HTMX)."""
    workspace_id = ctx.principal.workspace_id
    thread = await inbox.thread(session, workspace_id, conversation_id, acting_of(ctx))
    said = [m.body for m in thread if m.author_type == AuthorType.customer and not m.private]
    hits = []
    if said:
        await session.commit()  # the thread's read ends: no connection held while it embeds
        found = await search(session, workspace_id, said[-1], limit=SUGGESTIONS)
        hits = [hit for hit in found if hit.score >= SUGGESTION_MIN_SCORE]
    return page(ctx, "knowledge/_suggestions.html", hits=hits, asked=bool(said))
