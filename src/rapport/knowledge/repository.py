"""Every SQL statement of the knowledge base, scoped to one workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from rapport.core.repository import TenantRepository
from rapport.knowledge.enums import ArticleStatus
from rapport.knowledge.models import Article, KnowledgeSettings, ProductSheet


@dataclass(frozen=True, slots=True)
class ArticleKey:
    """What a search needs to know about an article (or a product's fact sheet: its group is
    its product) before it reads its text."""

    id: str
    locale: str
    translation_group_id: str
    updated_at: datetime


class ArticleRepository(TenantRepository[Article]):
    model = Article

    async def by_slug(self, locale: str, slug: str) -> Article | None:
        """Return the article with this slug in this locale."""
        return await self.one_or_none(
            self.base_query().where(Article.locale == locale, Article.slug == slug)
        )

    async def locked(self, article_id: str) -> Article | None:
        """Return an article read afresh and locked for the rest of the transaction."""
        statement = (
            self.base_query()
            .where(Article.id == article_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.one_or_none(statement)

    async def listed(
        self,
        *,
        status: ArticleStatus | None,
        locale: str | None,
        tag: str | None,
        before_id: str | None,
        limit: int,
    ) -> Sequence[Article]:
        """Return articles newest first, filtered, after the keyset `before_id`."""
        statement = self.base_query().order_by(Article.id.desc())
        if status is not None:
            statement = statement.where(Article.status == status)
        if locale is not None:
            statement = statement.where(Article.locale == locale)
        if before_id is not None:
            statement = statement.where(Article.id < before_id)
        if tag is None:
            return await self.all(statement.limit(limit))
        # Tags are a JSON list: filtered here, in pages, the same way on every database.
        found: list[Article] = []
        for article in await self.all(statement):
            if tag in article.tags:
                found.append(article)
                if len(found) == limit:
                    break
        return found

    async def keys(self, *, published_only: bool) -> list[ArticleKey]:
        """Return the id, locale, group and change time of the articles a search looks at."""
        statement = select(
            Article.id, Article.locale, Article.translation_group_id, Article.updated_at
        ).where(Article.workspace_id == self.workspace_id)
        if published_only:
            statement = statement.where(Article.status == ArticleStatus.published)
        rows = (await self.session.execute(statement)).all()
        return [ArticleKey(*row) for row in rows]

    async def with_ids(self, ids: Sequence[str]) -> Sequence[Article]:
        """Return these articles of the workspace."""
        if not ids:
            return []
        return await self.all(self.base_query().where(Article.id.in_(ids)))

    async def in_group(self, translation_group_id: str) -> Sequence[Article]:
        """Return every locale's version of an article."""
        return await self.all(
            self.base_query()
            .where(Article.translation_group_id == translation_group_id)
            .order_by(Article.locale)
        )

    async def published(self, locale: str | None = None) -> Sequence[Article]:
        """Return the published articles (of one locale), by title."""
        statement = self.base_query().where(Article.status == ArticleStatus.published)
        if locale is not None:
            statement = statement.where(Article.locale == locale)
        return await self.all(statement.order_by(Article.title))

    async def published_locales(self) -> list[str]:
        """Return the locales that have a published article."""
        statement = (
            select(Article.locale)
            .where(
                Article.workspace_id == self.workspace_id,
                Article.status == ArticleStatus.published,
            )
            .distinct()
            .order_by(Article.locale)
        )
        return list((await self.session.execute(statement)).scalars().all())


class SettingsRepository(TenantRepository[KnowledgeSettings]):
    model = KnowledgeSettings

    async def current(self, *, for_update: bool = False) -> KnowledgeSettings | None:
        """Return the workspace's settings row, if it has one."""
        statement = self.base_query()
        if for_update:
            statement = statement.with_for_update()
        return await self.one_or_none(statement)


class ProductSheetRepository(TenantRepository[ProductSheet]):
    model = ProductSheet

    async def by_key(self, product_key: str, locale: str) -> ProductSheet | None:
        """Return a product's fact sheet in one locale."""
        return await self.one_or_none(
            self.base_query().where(
                ProductSheet.product_key == product_key, ProductSheet.locale == locale
            )
        )

    async def listed(
        self, *, product_key: str | None, locale: str | None, before_id: str | None, limit: int
    ) -> Sequence[ProductSheet]:
        """Return fact sheets newest first, filtered, after the keyset `before_id`."""
        statement = self.base_query().order_by(ProductSheet.id.desc())
        if product_key is not None:
            statement = statement.where(ProductSheet.product_key == product_key)
        if locale is not None:
            statement = statement.where(ProductSheet.locale == locale)
        if before_id is not None:
            statement = statement.where(ProductSheet.id < before_id)
        return await self.all(statement.limit(limit))

    async def keys(self) -> list[ArticleKey]:
        """Return the id, locale, product and change time of every fact sheet."""
        statement = select(
            ProductSheet.id, ProductSheet.locale, ProductSheet.product_key, ProductSheet.updated_at
        ).where(ProductSheet.workspace_id == self.workspace_id)
        rows = (await self.session.execute(statement)).all()
        return [ArticleKey(*row) for row in rows]

    async def of_product(self, product_key: str) -> Sequence[ProductSheet]:
        """Return a product's fact sheets in every locale."""
        return await self.all(self.base_query().where(ProductSheet.product_key == product_key))

    async def with_ids(self, ids: Sequence[str]) -> Sequence[ProductSheet]:
        """Return these fact sheets of the workspace."""
        if not ids:
            return []
        return await self.all(self.base_query().where(ProductSheet.id.in_(ids)))
