"""The knowledge base as the assistant sees it: a search port with the knowledge domain's
hybrid search (articles) and product fact sheets behind it, replaceable in tests."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.assistant.dialogue import Hit
from rapport.assistant.labels import clean
from rapport.config import get_settings
from rapport.knowledge.products import product_sheets
from rapport.knowledge.schemas import ArticleHit
from rapport.knowledge.search import embed_query
from rapport.knowledge.service import search as search_articles

logger = logging.getLogger(__name__)
Search = Callable[[AsyncSession, str, str, str | None], Awaitable[Sequence[Hit]]]
MAX_QUERY = 500


async def knowledge_search(
    session: AsyncSession, workspace_id: str, query: str, locale: str | None
) -> Sequence[Hit]:
    """Search published articles and the fact sheet of a product the question names, in the
    customer's language first (any locale else), best first. The query is embedded once,
    before the first statement (it is the text the labels' models read, so the shared
    embedder remembers it), with the articles and sheets met earlier with another model's
    vectors, and given to both."""
    query = clean(query)[:MAX_QUERY]
    if not query.strip():
        return []
    embedded = await embed_query(query.strip())
    hits: list[Hit] = list(
        await product_sheets.answer(session, workspace_id, query, locale=locale, embedded=embedded)
    )
    try:
        found = await search_articles(
            session, workspace_id, query, locale=locale, limit=3, embedded=embedded
        )
        hits += [_absolute(article) for article in found]
    except Exception as error:  # the sheets' answer stands without the articles
        logger.warning("article search failed", extra={"error": type(error).__name__})
    return sorted(hits, key=lambda hit: -hit.score)


def _absolute(article: ArticleHit) -> ArticleHit:
    """Give the help centre's link with Rapport's public address: the reply is read on the
    shop's own pages (the widget), where a bare path would name one of the shop's."""
    if not article.url.startswith("/"):
        return article
    return article.model_copy(update={"url": get_settings().base_url.rstrip("/") + article.url})


_search: Search = knowledge_search


def use_search(search: Search | None) -> None:
    """Replace the search (tests); None restores the knowledge base's."""
    global _search
    _search = search or knowledge_search


async def search(
    session: AsyncSession, workspace_id: str, query: str, locale: str | None
) -> Sequence[Hit]:
    """Return the best articles for a question; a failing search finds nothing."""
    try:
        return await _search(session, workspace_id, query, locale)
    except Exception as error:  # an answer without articles beats no answer
        logger.warning("knowledge search failed", extra={"error": type(error).__name__})
        return []
