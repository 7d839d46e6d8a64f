"""The public help center (no sign-in): a workspace's published articles, by tag and locale,
with a search box; drafts and other workspaces' articles are never shown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.deps import SessionDep
from rapport.core.languages import accepted_languages, best_language
from rapport.core.ratelimit import RateLimiter
from rapport.errors import NotFound, TooManyRequests
from rapport.identity.auth import client_ip
from rapport.identity.service import workspaces
from rapport.knowledge.help_texts import TEXTS, help_texts
from rapport.knowledge.markdown import render_html
from rapport.knowledge.repository import ArticleRepository
from rapport.knowledge.schemas import LOCALE_PATTERN, SLUG_PATTERN, ArticleRead, normal_locale
from rapport.knowledge.service import articles, get_published, help_path, search
from rapport.nlp.language import ENGLISH

help_router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# Searches one address may run: 20 a minute, in bursts of 10 (each embeds the query).
SEARCHES_PER_MINUTE = 20
SEARCH_BURST = 10
search_limiter = RateLimiter(SEARCHES_PER_MINUTE / 60, SEARCH_BURST)


def _page(
    request: Request, name: str, values: dict[str, Any], status_code: int = 200,
    *, negotiated: bool = False,
) -> HTMLResponse:  # fmt: skip
    """Render a page in `values["locale"]`, with the help center's words in its language.
    `negotiated`: the language came from the browser's Accept-Language (caches must tell)."""
    values["t"] = help_texts(values["locale"])
    headers = {"Content-Language": values["locale"]}
    if negotiated:
        # Shared caches that ignore Vary on pages must not hand one visitor's language to
        # the next.
        headers["Vary"] = "Accept-Language"
        headers["Cache-Control"] = "private"
    if status_code >= 400:
        headers["Cache-Control"] = "no-store"
    return templates.TemplateResponse(request, name, values, status_code, headers)


def _wanted(request: Request) -> list[str]:
    return accepted_languages(request.headers.get("accept-language"))


def _missing(request: Request) -> HTMLResponse:
    locale = best_language(_wanted(request), TEXTS) or ENGLISH
    values = {"message": help_texts(locale)["no_page"], "locale": locale}
    return _page(request, "help/missing.html", values, 404, negotiated=True)


async def _workspace_id(session: AsyncSession, slug: str) -> tuple[str, str]:
    workspace = await workspaces.get_by_slug(session, slug)
    return workspace.id, workspace.name


def _chosen_locale(
    asked: str | None, browser: list[str], available: list[str], default: str
) -> tuple[str, bool]:
    """The locale a help center page is shown in, and whether the browser chose it: the one
    the address asks for when the help center has it, else the best of the browser's
    languages it has (a shared `?locale=fr` link opens in German for a German visitor when
    there is no French), else the workspace's default."""
    try:
        wanted = normal_locale(asked) if asked else None
    except ValueError:
        wanted = None
    if wanted in available:
        return wanted, False
    if (found := best_language(browser, available)) is not None:
        return found, True
    return (default if default in available or not available else available[0]), True


def _by_tag(found: list[ArticleRead], general: str) -> list[tuple[str, list[ArticleRead]]]:
    """The articles by tag, tags told apart regardless of case ("Returns" and "returns" are
    one heading, spelt as first met); the untagged ones under `general` (the page's word for
    it) with any tag spelt so, last."""
    groups: dict[str, tuple[str, list[ArticleRead]]] = {}
    for article in found:
        for tag in article.tags or [general]:
            groups.setdefault(tag.casefold(), (tag, []))[1].append(article)
    last = general.casefold()
    ordered = sorted(groups.items(), key=lambda item: (item[0] == last, item[0]))
    return [(general if key == last else tag, articles) for key, (tag, articles) in ordered]


@help_router.get("/help/{workspace_slug}", response_class=HTMLResponse)
async def help_center(
    request: Request,
    workspace_slug: str,
    session: SessionDep,
    locale: Annotated[str | None, Query(max_length=35)] = None,
    q: Annotated[str, Query(max_length=300)] = "",
) -> HTMLResponse:
    """Show a workspace's help center: search, its articles by tag, a locale switch."""
    try:
        workspace_id, name = await _workspace_id(session, workspace_slug)
    except NotFound:
        return _missing(request)
    repository = ArticleRepository(session, workspace_id)
    available = await repository.published_locales()
    if not available:  # no help center yet: answer as for no workspace (slugs stay private)
        return _missing(request)
    default = await articles.default_locale(session, workspace_id)
    chosen, negotiated = _chosen_locale(locale, _wanted(request), available, default)
    listed = [ArticleRead.model_validate(a) for a in await repository.published(chosen)]
    values: dict[str, Any] = {
        "workspace_slug": workspace_slug,
        "workspace_name": name,
        "locale": chosen,
        "locales": available,
        "groups": _by_tag(listed, help_texts(chosen)["general"]),
        "query": q.strip(),
        "hits": None,
        "error": None,
    }
    if not values["query"]:
        return _page(request, "help/index.html", values, negotiated=negotiated)
    wait = search_limiter.take(client_ip(request) or "unknown")
    if wait:
        values["error"] = TooManyRequests(help_texts(chosen)["too_many"], wait)
        return _page(request, "help/index.html", values, 429, negotiated=negotiated)
    # The reads end here: the search embeds the question, holding no connection meanwhile.
    await session.commit()
    values["hits"] = await search(session, workspace_id, values["query"], locale=chosen)
    return _page(request, "help/index.html", values, negotiated=negotiated)


@help_router.get("/help/{workspace_slug}/{locale}/{slug}", response_class=HTMLResponse)
async def help_article(
    request: Request, workspace_slug: str, locale: str, slug: str, session: SessionDep
) -> HTMLResponse:
    """Show one published article of a workspace's help center (drafts are not found)."""
    if len(locale) > 35 or len(slug) > 120 or not _valid(locale, slug):
        return _missing(request)
    try:
        workspace_id, name = await _workspace_id(session, workspace_slug)
        article = await get_published(session, workspace_id, slug, normal_locale(locale))
    except NotFound:
        return _missing(request)
    versions = await articles.translations(
        session, workspace_id, article.translation_group_id, published_only=True
    )
    values = {
        "workspace_slug": workspace_slug,
        "workspace_name": name,
        "locale": article.locale,
        "article": article,
        "html": render_html(article.body),
        "translations": [
            (version.locale, help_path(workspace_slug, version.locale, version.slug))
            for version in versions
            if version.id != article.id
        ],
    }
    return _page(request, "help/article.html", values)


def _valid(locale: str, slug: str) -> bool:
    return bool(re.fullmatch(LOCALE_PATTERN, locale) and re.fullmatch(SLUG_PATTERN, slug))
