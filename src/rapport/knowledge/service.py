"""Knowledge base rules: articles per locale (write, publish, translate) and their search.

Saving an article embeds its title and text first, in a thread, before the unit of work's
first statement: nothing holds the database writer while the model runs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.db import take_writer
from rapport.core.ids import new_id
from rapport.core.pagination import decode_cursor, encode_cursor
from rapport.core.recent import SETTINGS_SECONDS, Recent
from rapport.identity.enums import ActorType
from rapport.identity.schemas import Principal
from rapport.identity.service import workspaces
from rapport.knowledge import search as searching
from rapport.knowledge.embedding import article_text, embed, to_bytes
from rapport.knowledge.enums import ArticleStatus
from rapport.knowledge.errors import ArticleNotFound, SlugTaken, TranslationExists
from rapport.knowledge.markdown import plain_text
from rapport.knowledge.models import Article, KnowledgeSettings
from rapport.knowledge.repository import ArticleRepository, SettingsRepository
from rapport.knowledge.schemas import (
    ArticleCreate,
    ArticleHit,
    ArticlePage,
    ArticleRead,
    ArticleUpdate,
)
from rapport.nlp.ports import Vectors

DEFAULT_LOCALE = "en"
_CURSOR_KIND = "knowledge.articles"
# Letters whose usual ASCII spelling is not their base letter (Größe -> groesse).
_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe"})
# Every search reads the default locale and the workspace's slug: kept a few seconds
# (core.recent; a slug never changes).
_default_locales: Recent[str, str] = Recent(SETTINGS_SECONDS)
_slugs: Recent[str, str] = Recent(SETTINGS_SECONDS)


def slug_of(title: str) -> str:
    """Make a help-center address from a title (ASCII words joined by hyphens)."""
    spelled = title.lower().translate(_SPELLED_OUT)
    ascii_title = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title)
    return "-".join(words)[:120].strip("-") or "article"


def help_path(workspace_slug: str, locale: str, slug: str) -> str:
    """Return the public help-center path of an article."""
    return f"/help/{workspace_slug}/{locale}/{slug}"


async def workspace_slug(session: AsyncSession, workspace_id: str) -> str:
    """Return the slug of a workspace (its help center's address)."""
    reader = Principal(workspace_id, ActorType.system, "knowledge", frozenset())

    async def read() -> str:
        return (await workspaces.get(session, reader)).slug

    return await _slugs.load(workspace_id, read)


async def search(
    session: AsyncSession,
    workspace_id: str,
    query: str,
    *,
    locale: str | None = None,
    limit: int = 5,
    published_only: bool = True,
    embedded: tuple[Vectors, str] | None = None,
) -> list[ArticleHit]:
    """Find the articles that best answer `query`: BM25 and MiniLM cosine, summed half and
    half (see docs/knowledge.md). With `locale`, each article counts in that locale, else its
    language, else the workspace's default locale; without, every locale counts.

    The query is embedded before the first statement, with the rows waiting for new vectors
    (`search.embed_query`), unless the caller did: `embedded` is its vector and the model's
    name, and the caller ran `search.refresh_stale()`. Call it before writing in a unit."""
    query = query.strip()[: searching.MAX_QUERY_CHARS]
    limit = max(0, min(limit, searching.MAX_LIMIT))
    if not query or limit == 0:
        return []
    if embedded is None:
        embedded = await searching.embed_query(query)
    query_vector, model = embedded
    default_locale = await articles.default_locale(session, workspace_id)
    ranked = await searching.hits(
        session,
        workspace_id,
        query,
        default_locale=default_locale,
        locale=locale,
        limit=limit,
        published_only=published_only,
        query_vector=query_vector,
        model=model,
    )
    if not ranked:
        return []
    slug = await workspace_slug(session, workspace_id)
    return [
        searching.hit(item, kw, sem, query, help_path(slug, item.locale, item.slug))
        for item, kw, sem in ranked
    ]


async def get_published(
    session: AsyncSession, workspace_id: str, slug: str, locale: str
) -> ArticleRead:
    """Return a published article by its locale and slug; drafts are not found."""
    article = await ArticleRepository(session, workspace_id).by_slug(locale, slug)
    if article is None or article.status != ArticleStatus.published:
        raise ArticleNotFound("No such article in this help center.")
    return ArticleRead.model_validate(article)


class ArticleService:
    async def create(
        self,
        session: AsyncSession,
        workspace_id: str,
        body: ArticleCreate,
        *,
        author: str,
        embedding: tuple[bytes, str] | None = None,
    ) -> Article:
        """Write an article (embedded first, unless `embedding` comes from `embed_articles`);
        its slug must be free in its locale."""
        vector, model = embedding or await self._embedding(body.title, body.body)
        await take_writer(session)  # the slug check and the insert form one write
        repository = ArticleRepository(session, workspace_id)
        locale = body.locale or await self.default_locale(session, workspace_id)
        group_id = new_id()
        if body.translation_of is not None:
            original = await self.get(session, workspace_id, body.translation_of)
            group_id = original.translation_group_id
            if any(a.locale == locale for a in await repository.in_group(group_id)):
                raise TranslationExists(f"This article already has a {locale} version.")
        if body.slug is not None:
            slug = body.slug
            await self._check_slug(repository, locale, slug, None)
        else:
            slug = await self._free_slug(repository, locale, slug_of(body.title))
        now = utcnow()
        article = Article(
            slug=slug,
            locale=locale,
            title=body.title,
            body=body.body,
            tags=list(dict.fromkeys(body.tags)),
            status=body.status,
            translation_group_id=group_id,
            author=author,
            updated_at=now,
            published_at=now if body.status == ArticleStatus.published else None,
            embedding=vector,
            embedding_model=model,
        )
        searching.articles_changed(session, workspace_id)
        return await repository.add(article)

    async def update(
        self, session: AsyncSession, workspace_id: str, article_id: str, body: ArticleUpdate
    ) -> Article:
        """Change an article; a new title or text is embedded before the write begins."""
        current = await self.get(session, workspace_id, article_id)
        before = (current.title, current.body)
        title, text = body.title or before[0], before[1] if body.body is None else body.body
        changed_text = (title, text) != before
        vector, model = await self._embedding(title, text) if changed_text else (None, None)
        article = await ArticleRepository(session, workspace_id).locked(article_id)
        if article is None:
            raise ArticleNotFound("No such article in this workspace.")
        if body.slug is not None and body.slug != article.slug:
            await self._check_slug(
                ArticleRepository(session, workspace_id), article.locale, body.slug, article.id
            )
            article.slug = body.slug
        if changed_text:
            article.title = body.title or article.title
            article.body = article.body if body.body is None else body.body
            # Another request may have changed the other field while this one embedded: then
            # the vector describes no saved text, and search embeds the article when it meets it.
            same = (article.title, article.body) == (title, text)
            article.embedding, article.embedding_model = (vector, model) if same else (None, None)
        if body.tags is not None:
            article.tags = list(dict.fromkeys(body.tags))
        if body.status is not None and body.status != article.status:
            article.status = body.status
            if body.status == ArticleStatus.published:
                article.published_at = utcnow()
        article.updated_at = utcnow()
        searching.articles_changed(session, workspace_id)
        await session.flush()
        return article

    async def delete(self, session: AsyncSession, workspace_id: str, article_id: str) -> None:
        """Delete one locale's version of an article."""
        article = await self.get(session, workspace_id, article_id)
        searching.articles_changed(session, workspace_id)
        await ArticleRepository(session, workspace_id).delete(article)

    async def get(self, session: AsyncSession, workspace_id: str, article_id: str) -> Article:
        """Return an article of this workspace, draft or published."""
        article = await ArticleRepository(session, workspace_id).get(article_id)
        if article is None:
            raise ArticleNotFound("No such article in this workspace.")
        return article

    async def page(
        self,
        session: AsyncSession,
        workspace_id: str,
        *,
        status: ArticleStatus | None = None,
        locale: str | None = None,
        tag: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> ArticlePage:
        """Return articles newest first, filtered by status, locale and tag."""
        before = decode_cursor(_CURSOR_KIND, cursor, _cursor_id) if cursor else None
        found = await ArticleRepository(session, workspace_id).listed(
            status=status, locale=locale, tag=tag, before_id=before, limit=limit + 1
        )
        items = [ArticleRead.model_validate(article) for article in found[:limit]]
        more = len(found) > limit
        next_cursor = encode_cursor(_CURSOR_KIND, [items[-1].id]) if more else None
        return ArticlePage(items=items, next_cursor=next_cursor)

    async def translations(
        self, session: AsyncSession, workspace_id: str, group_id: str, *, published_only: bool
    ) -> Sequence[Article]:
        """Return the versions of an article in every locale (only the published ones)."""
        versions = await ArticleRepository(session, workspace_id).in_group(group_id)
        if not published_only:
            return versions
        return [a for a in versions if a.status == ArticleStatus.published]

    async def default_locale(self, session: AsyncSession, workspace_id: str) -> str:
        """Return the locale the workspace's searches fall back to (English if unset)."""

        async def read() -> str:
            found = await SettingsRepository(session, workspace_id).current()
            return found.default_locale if found is not None else DEFAULT_LOCALE

        return await _default_locales.load(workspace_id, read)

    async def set_default_locale(
        self, session: AsyncSession, workspace_id: str, locale: str
    ) -> str:
        """Change the locale the workspace's searches fall back to."""
        await take_writer(session)
        repository = SettingsRepository(session, workspace_id)
        found = await repository.current(for_update=True)
        if found is None:
            found = await repository.add(KnowledgeSettings(default_locale=locale))
        found.default_locale = locale
        _default_locales.forget_on_commit(session, workspace_id)
        return locale

    async def embed_articles(self, bodies: Sequence[ArticleCreate]) -> list[tuple[bytes, str]]:
        """Embed several new articles at once (before a unit of work that creates them)."""
        if not bodies:
            return []
        vectors, model = await embed([article_text(b.title, plain_text(b.body)) for b in bodies])
        return [(to_bytes(vector), model) for vector in vectors]

    async def _embedding(self, title: str, body: str) -> tuple[bytes, str]:
        vectors, model = await embed([article_text(title, plain_text(body))])
        return to_bytes(vectors[0]), model

    async def _free_slug(self, repository: ArticleRepository, locale: str, wanted: str) -> str:
        """A derived slug that is taken gets a number (two non-Latin titles both derive
        `article`: they become `article` and `article-2`)."""
        for number in range(1, 1000):
            slug = wanted if number == 1 else f"{wanted[:112]}-{number}"
            if await repository.by_slug(locale, slug) is None:
                return slug
        raise SlugTaken(f"Too many {locale} articles derive the slug {wanted!r}: give one.")

    async def _check_slug(
        self, repository: ArticleRepository, locale: str, slug: str, own_id: str | None
    ) -> None:
        found = await repository.by_slug(locale, slug)
        if found is not None and found.id != own_id:
            raise SlugTaken(f"Another {locale} article already has the slug {slug!r}.")


def _cursor_id(values: list[object]) -> str:
    (article_id,) = values
    if not isinstance(article_id, str) or not re.fullmatch(r"[0-9a-f]{32}", article_id):
        raise ValueError("not an article id")
    return article_id


articles = ArticleService()
