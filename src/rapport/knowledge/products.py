"""Product fact sheets: written whole per product and locale (the shop's catalog sync PUTs
them), listed, deleted, and asked (product_search.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.db import lock_key
from rapport.core.pagination import decode_cursor, encode_cursor
from rapport.knowledge import product_search
from rapport.knowledge.embedding import embed, to_bytes
from rapport.knowledge.errors import InvalidProductKey, ProductSheetNotFound
from rapport.knowledge.models import ProductSheet
from rapport.knowledge.repository import ProductSheetRepository
from rapport.knowledge.schemas import (
    MAX_FACTS,
    Fact,
    ProductHit,
    ProductSheetPage,
    ProductSheetRead,
    ProductSheetWrite,
)
from rapport.knowledge.search import MAX_QUERY_CHARS, embed_query
from rapport.knowledge.service import articles
from rapport.nlp.ports import Vectors

_CURSOR_KIND = "knowledge.product_sheets"


@dataclass(frozen=True, slots=True)
class Embedding:
    """A sheet's lines' vectors packed for the database, the model that made them, and the
    texts they were made of (a sheet whose lines are other texts stores no vectors)."""

    vectors: bytes | None
    model: str | None
    texts: tuple[str, ...]


def _texts(body: ProductSheetWrite) -> tuple[str, ...]:
    facts = [(fact.name, fact.value) for fact in body.facts]
    return tuple(product_search.sheet_texts(body.name, facts, body.description))


@dataclass(frozen=True, slots=True)
class CatalogUpdate:
    """A product as the shop's catalog sends it, and when the catalog last changed it."""

    sheet: ProductSheetWrite
    updated_at: datetime | None = None


def _older(update: CatalogUpdate, current: ProductSheet | None) -> bool:
    """Tell whether the sheet holds a newer version of the product than the update (a
    delivery that came late, or again after a newer one)."""
    held = current.source_updated_at if current is not None else None
    return held is not None and update.updated_at is not None and update.updated_at < held


def synced_sheet(
    current: ProductSheet | None, catalog: ProductSheetWrite
) -> tuple[ProductSheetWrite, list[str]]:
    """Return the sheet a catalog update writes, and the names of the facts it owns: the
    catalog's name, SKU and facts, then the facts written by hand (those whose names the
    catalog neither sends now nor sent last time), and the description and page address
    written by hand where the catalog sends none. A sheet never holds more than MAX_FACTS:
    the catalog's last facts give way to those written by hand, never the reverse."""
    if current is None:
        return catalog, [fact.name for fact in catalog.facts]
    sent = {fact.name.casefold() for fact in catalog.facts}
    owned = sent | {name.casefold() for name in current.synced_facts}
    # Kept as stored (written under the rules of their day), not checked again.
    kept = [
        Fact.model_construct(name=name, value=value)
        for name, value in current.facts
        if name.casefold() not in owned
    ]
    synced = catalog.facts[: max(0, MAX_FACTS - len(kept))]
    body = catalog.model_copy(
        update={
            "facts": [*synced, *kept][:MAX_FACTS],
            "description": catalog.description or current.description,
            "url": catalog.url or current.url,
        }
    )
    return body, [fact.name for fact in synced]


class ProductSheetService:
    async def put(
        self,
        session: AsyncSession,
        workspace_id: str,
        product_key: str,
        locale: str,
        body: ProductSheetWrite,
        *,
        author: str,
        embedding: Embedding | None = None,
    ) -> tuple[ProductSheet, bool]:
        """Write a product's fact sheet in one locale whole; return it and whether it is new.
        Its lines are embedded first, before the unit of work's first statement (unless
        `embedding` comes from `embed_sheet`)."""
        embedding = embedding or await self.embed_sheet(body)
        written = await self._write(
            session, workspace_id, product_key, locale, body, author, embedding, None
        )
        assert written is not None  # only a catalog update can be older than the sheet
        return written

    async def sync(
        self,
        session: AsyncSession,
        workspace_id: str,
        product_key: str,
        locale: str,
        update: CatalogUpdate,
        *,
        author: str,
        embedding: Embedding,
    ) -> tuple[ProductSheet, bool] | None:
        """Write what the shop's catalog sends of a product, merged with the sheet under the
        unit's lock (`synced_sheet`); None, writing nothing, when the sheet holds a newer
        version of the product. Lines that are not the embedded ones (`planned_sync`, then
        `embed_sheet`) store no vectors: the next questions embed them (search.StaleVectors)."""
        return await self._write(
            session, workspace_id, product_key, locale, update.sheet, author, embedding, update
        )

    async def planned_sync(
        self,
        session: AsyncSession,
        workspace_id: str,
        product_key: str,
        locale: str,
        update: CatalogUpdate,
    ) -> ProductSheetWrite | None:
        """Return the sheet a catalog update would write now (to embed before `sync`), or None
        when the sheet holds a newer version of the product."""
        current = await ProductSheetRepository(session, workspace_id).by_key(product_key, locale)
        return None if _older(update, current) else synced_sheet(current, update.sheet)[0]

    async def _write(
        self,
        session: AsyncSession,
        workspace_id: str,
        product_key: str,
        locale: str,
        body: ProductSheetWrite,
        author: str,
        embedding: Embedding,
        update: CatalogUpdate | None,
    ) -> tuple[ProductSheet, bool] | None:
        if product_key in (".", ".."):
            raise InvalidProductKey("A product id may not be . or .. (it is part of an address).")
        await lock_key(session, f"knowledge.product_sheet:{workspace_id}:{product_key}:{locale}")
        repository = ProductSheetRepository(session, workspace_id)
        sheet = await repository.by_key(product_key, locale)
        synced_names = list(sheet.synced_facts) if sheet is not None else []
        if update is not None:
            if _older(update, sheet):
                return None
            body, synced_names = synced_sheet(sheet, body)
        created = sheet is None
        if sheet is None:
            sheet = ProductSheet(product_key=product_key, locale=locale)
        sheet.name, sheet.sku, sheet.description = body.name, body.sku, body.description
        sheet.facts = [[fact.name, fact.value] for fact in body.facts]
        sheet.url, sheet.author, sheet.updated_at = body.url, author, utcnow()
        sheet.synced_facts = synced_names
        if update is not None and update.updated_at is not None:
            sheet.source_updated_at = update.updated_at
        same = embedding.texts == _texts(body)
        sheet.embedding = embedding.vectors if same else None
        sheet.embedding_model = embedding.model if same else None
        product_search.sheets_changed(session, workspace_id)
        if created:
            await repository.add(sheet)
        else:
            await session.flush()
        return sheet, created

    async def embed_sheet(self, body: ProductSheetWrite) -> Embedding:
        """Embed a sheet's lines (facts, then sentences) in a thread, before a unit of work."""
        texts = _texts(body)
        if not texts:
            return Embedding(None, None, texts)
        vectors, model = await embed(list(texts))
        return Embedding(to_bytes(vectors), model, texts)

    async def get(
        self, session: AsyncSession, workspace_id: str, product_key: str, locale: str
    ) -> ProductSheet:
        """Return a product's fact sheet in one locale."""
        sheet = await ProductSheetRepository(session, workspace_id).by_key(product_key, locale)
        if sheet is None:
            raise ProductSheetNotFound(f"No {locale} fact sheet for this product.")
        return sheet

    async def delete(
        self, session: AsyncSession, workspace_id: str, product_key: str, locale: str
    ) -> None:
        """Delete a product's fact sheet in one locale (its other locales stay)."""
        sheet = await self.get(session, workspace_id, product_key, locale)
        product_search.sheets_changed(session, workspace_id)
        await ProductSheetRepository(session, workspace_id).delete(sheet)

    async def delete_product(
        self, session: AsyncSession, workspace_id: str, product_key: str
    ) -> int:
        """Delete a product's fact sheets in every locale; return how many there were."""
        repository = ProductSheetRepository(session, workspace_id)
        found = await repository.of_product(product_key)
        for sheet in found:
            await repository.delete(sheet)
        if found:
            product_search.sheets_changed(session, workspace_id)
        return len(found)

    async def page(
        self,
        session: AsyncSession,
        workspace_id: str,
        *,
        product_key: str | None = None,
        locale: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> ProductSheetPage:
        """Return fact sheets newest first, of one product or locale if asked."""
        before = decode_cursor(_CURSOR_KIND, cursor, _cursor_id) if cursor else None
        found = await ProductSheetRepository(session, workspace_id).listed(
            product_key=product_key, locale=locale, before_id=before, limit=limit + 1
        )
        items = [ProductSheetRead.model_validate(sheet) for sheet in found[:limit]]
        more = len(found) > limit
        next_cursor = encode_cursor(_CURSOR_KIND, [items[-1].id]) if more else None
        return ProductSheetPage(items=items, next_cursor=next_cursor)

    async def answer(
        self,
        session: AsyncSession,
        workspace_id: str,
        query: str,
        *,
        locale: str | None = None,
        embedded: tuple[Vectors, str] | None = None,
    ) -> list[ProductHit]:
        """Return the facts of the product a question names that answer it (at most one hit;
        none when it names no product, or two equally). With `locale`, a product's sheet
        counts in that locale, else its language, else the workspace's default locale.

        The question is embedded before the first statement, with the rows waiting for new
        vectors (`search.embed_query`), unless the caller did: `embedded` is its vector and
        the model's name, and the caller ran `search.refresh_stale()`."""
        query = query.strip()[:MAX_QUERY_CHARS]
        if not query:
            return []
        if embedded is None:
            embedded = await embed_query(query)
        query_vector, model = embedded
        return await product_search.answers(
            session,
            workspace_id,
            query,
            query_vector=query_vector,
            model=model,
            default_locale=await articles.default_locale(session, workspace_id),
            locale=locale,
        )


def _cursor_id(values: list[object]) -> str:
    (sheet_id,) = values
    if not isinstance(sheet_id, str) or not re.fullmatch(r"[0-9a-f]{32}", sheet_id):
        raise ValueError("not a fact sheet id")
    return sheet_id


product_sheets = ProductSheetService()
