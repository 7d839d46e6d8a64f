"""Embedding the knowledge base again after the model changed (MiniLM installed where the
fallback embedded, or removed): `rapport knowledge reembed`.

Searches already cope with vectors of another model (they answer by words, and each
process embeds the rows it meets again, in memory: search.StaleVectors); this writes the new
vectors to the database once, for every process and restart. A chunk of rows at a time: the
rows read in a short unit of work, their texts embedded with no unit open, the vectors
written in another short one, only where the row has not changed meanwhile (an edit embeds
its own text)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Database
from rapport.knowledge import product_search
from rapport.knowledge.embedding import article_text, embed, embedder, to_bytes
from rapport.knowledge.markdown import plain_text
from rapport.knowledge.models import Article, ProductSheet

CHUNK = 32
_NONE = np.empty((0, 0), np.float32)


@dataclass
class Reembedded:
    """What a run did: rows given new vectors, rows changed meanwhile (left to their own
    embedding) and sheets with nothing to embed (no facts, no description)."""

    model: str = ""
    written: int = 0
    changed_meanwhile: int = 0
    empty: int = 0


def _stale(model: Any, name: str, workspace_id: str | None) -> list[Any]:
    conditions = [or_(model.embedding_model.is_(None), model.embedding_model != name)]
    if workspace_id is not None:
        conditions.append(model.workspace_id == workspace_id)
    return conditions


async def count_stale(session: AsyncSession, model_name: str, workspace_id: str | None) -> int:
    """Count the articles and fact sheets whose vectors are not `model_name`'s."""
    total = 0
    for model in (Article, ProductSheet):
        conditions = _stale(model, model_name, workspace_id)
        total += int(await session.scalar(select(func.count()).where(*conditions)) or 0)
    return total


async def reembed(
    database: Database,
    *,
    workspace_id: str | None = None,
    advance: Callable[[int], None] = lambda _: None,
) -> Reembedded:
    """Give every article and fact sheet (of one workspace, or all) whose vectors are
    another model's the running model's; `advance(n)` after each chunk of n rows."""
    model_name = (await asyncio.to_thread(embedder)).name
    done = Reembedded(model=model_name)
    kinds: tuple[type[Article] | type[ProductSheet], ...] = (Article, ProductSheet)
    for model in kinds:
        after = ""
        while True:
            async with database.session() as session:
                conditions = _stale(model, model_name, workspace_id)
                statement = select(model).where(model.id > after, *conditions).order_by(model.id)
                found = (await session.scalars(statement.limit(CHUNK))).all()
                rows = cast(list[Article | ProductSheet], list(found))
            if not rows:
                break
            after = rows[-1].id
            texts = [_texts(row) for row in rows]
            flat = [text for row_texts in texts for text in row_texts]
            vectors, name = await embed(flat) if flat else (_NONE, model_name)
            async with database.session() as session:
                start = 0
                for row, row_texts in zip(rows, texts, strict=True):
                    if not row_texts:
                        done.empty += 1
                        continue
                    packed = to_bytes(vectors[start : start + len(row_texts)])
                    start += len(row_texts)
                    written = await session.execute(
                        update(model)
                        .where(model.id == row.id, model.updated_at == row.updated_at)
                        .values(embedding=packed, embedding_model=name)
                    )
                    if written.rowcount == 1:  # type: ignore[attr-defined]
                        done.written += 1
                    else:
                        done.changed_meanwhile += 1
            advance(len(rows))
    return done


def _texts(row: Article | ProductSheet) -> Sequence[str]:
    """Return what a row's vectors are made of (search.py and product_search.py's texts)."""
    if isinstance(row, Article):
        return [article_text(row.title, plain_text(row.body))]
    return product_search.sheet_texts(row.name, row.facts, row.description)
