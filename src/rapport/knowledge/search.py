"""Hybrid search over a workspace's articles: which versions count (locale and fallback),
an in-process index of their words and vectors, and the ranking of ranking.py."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.recent import SETTINGS_SECONDS, Recent
from rapport.knowledge import ranking
from rapport.knowledge.embedding import article_text, embed, from_bytes
from rapport.knowledge.markdown import plain_forms
from rapport.knowledge.models import Article
from rapport.knowledge.repository import ArticleKey, ArticleRepository
from rapport.knowledge.schemas import ArticleHit
from rapport.nlp.ports import Vectors

logger = logging.getLogger(__name__)
MAX_QUERY_CHARS = 1_000
MAX_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Indexed:
    """An article as search sees it; valid while the article's `updated_at` is unchanged."""

    updated_at: datetime
    article_id: str
    slug: str
    locale: str
    title: str
    text: str  # plain, as embedded
    lines: str  # in its shape, for snippets (`markdown.plain_lines`)
    starts: dict[str, int]  # of `lines`' words
    document: ranking.Document
    vector: Vectors | None
    model: str | None


class Versioned(Protocol):
    """An indexed row: valid while the row's `updated_at` is unchanged."""

    @property
    def updated_at(self) -> datetime: ...


T = TypeVar("T", bound=Versioned)


class VersionIndex(Generic[T]):
    """The rows indexed so far in this process, by id (least recently used forgotten)."""

    def __init__(self, max_items: int = 20_000) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def fresh(self, key: ArticleKey) -> T | None:
        """Return the row's entry if it was indexed at its current version."""
        with self._lock:
            found = self._items.get(key.id)
            if found is None or found.updated_at != key.updated_at:
                return None
            self._items.move_to_end(key.id)
            return found

    def store(self, item_id: str, item: T) -> None:
        """Keep a row's entry."""
        with self._lock:
            self._store(item_id, item)

    def replace(self, item_id: str, item: T) -> None:
        """Keep a row's entry again (new vectors), unless a newer version came meanwhile."""
        with self._lock:
            held = self._items.get(item_id)
            if held is None or held.updated_at == item.updated_at:
                self._store(item_id, item)

    def _store(self, item_id: str, item: T) -> None:
        self._items[item_id] = item
        self._items.move_to_end(item_id)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)


R = TypeVar("R")


async def read_indexed(
    index: VersionIndex[T],
    keys: Sequence[ArticleKey],
    read: Callable[[list[str]], Awaitable[Sequence[R]]],
    indexed: Callable[[R], tuple[str, T]],
) -> list[T]:
    """Return the rows of `keys` indexed, in their order: from the index where it holds their
    current version, the others read by id (`read`) and indexed (`indexed` gives the id and
    the entry) and kept there."""
    found = {key.id: index.fresh(key) for key in keys}
    for row in await read([key_id for key_id, item in found.items() if item is None]):
        item_id, item = indexed(row)
        index.store(item_id, item)
        found[item_id] = item
    return [item for item in found.values() if item is not None]


class StaleVectors(Generic[T]):
    """Indexed rows met with vectors of another model than the running one (or none, after
    an edit raced the embedding): they are searched by their words meanwhile, and embedded
    again by `refresh_stale()`, which callers run before a unit of work's first statement,
    a few rows at a time. So no model runs while a connection is held, and a model change
    costs each row its answer by meaning for a question or two. The new vectors are kept in
    the process's index, not written back: each process (and each restart) embeds again
    the rows it meets, as it did before these were queued."""

    def __init__(
        self,
        index: VersionIndex[T],
        *,
        key: Callable[[T], str],
        texts: Callable[[T], list[str]],
        with_vectors: Callable[[T, Vectors, str], T],
    ) -> None:
        self.index, self.key, self.texts, self.with_vectors = index, key, texts, with_vectors
        self._pending: dict[str, T] = {}
        self._in_flight: set[str] = set()  # taken by a refresh that has not ended
        self._lock = threading.Lock()
        _stale_sets.append(self)

    def note(self, item: T) -> None:
        """Have the row embedded again by a coming refresh (unless one is embedding it)."""
        with self._lock:
            item_id = self.key(item)
            if item_id not in self._in_flight:
                self._pending[item_id] = item

    def __contains__(self, item_id: object) -> bool:
        with self._lock:
            return item_id in self._pending

    def take(self, budget: int) -> list[T]:
        """Take the oldest rows waiting, up to `budget` texts (one row at least, if any)."""
        taken: list[T] = []
        with self._lock:
            while self._pending:
                item_id, item = next(iter(self._pending.items()))
                cost = len(self.texts(item))
                if taken and cost > budget:
                    break
                del self._pending[item_id]
                self._in_flight.add(item_id)
                taken.append(item)
                budget -= cost
        return taken

    def keep(self, item: T, vectors: Vectors, model: str) -> None:
        """Keep a row with its new vectors in the index (not over a newer version)."""
        self.index.replace(self.key(item), self.with_vectors(item, vectors, model))

    def done(self, item: T) -> None:
        """End a refresh's hold on a row (kept or not: a failed one is noted again when met)."""
        with self._lock:
            self._in_flight.discard(self.key(item))


_stale_sets: list[StaleVectors[Any]] = []
# The texts one refresh embeds at most: after a model change each question pays for a few
# rows (about 1-5 ms a text), never for a whole catalog.
REFRESH_TEXTS = 64


async def refresh_stale() -> None:
    """Embed some of the rows met with another model's vectors (articles and fact sheets),
    in one model run; call it before a unit of work's first statement. It never raises: a
    failure is logged and the rows stay searchable by their words."""
    waiting: list[tuple[StaleVectors[Any], Any]] = []
    budget = REFRESH_TEXTS
    for stale in _stale_sets:
        taken = stale.take(budget) if budget > 0 else []
        budget -= sum(len(stale.texts(item)) for item in taken)
        waiting += [(stale, item) for item in taken]
    if not waiting:
        return
    try:
        texts = [stale.texts(item) for stale, item in waiting]
        vectors, model = await embed([text for item_texts in texts for text in item_texts])
        start = 0
        for (stale, item), item_texts in zip(waiting, texts, strict=True):
            stale.keep(item, vectors[start : start + len(item_texts)], model)
            start += len(item_texts)
    except Exception as error:  # a search without these vectors still answers by words
        logger.warning("knowledge: embedding stale rows failed", extra={"error": repr(error)})
    finally:
        for stale, item in waiting:
            stale.done(item)


async def embed_query(query: str) -> tuple[Vectors, str]:
    """Embed a question, after some of the rows waiting for new vectors (`refresh_stale`):
    call it before the unit of work's first statement (or after a commit that gave the
    connection back); a caller that embeds its question otherwise runs `refresh_stale()`
    there."""
    await refresh_stale()
    vectors, model = await embed([query])
    return vectors[0], model


index: VersionIndex[Indexed] = VersionIndex()
stale: StaleVectors[Indexed] = StaleVectors(
    index,
    key=lambda item: item.article_id,
    texts=lambda item: [article_text(item.title, item.text)],
    with_vectors=lambda item, vectors, model: dataclasses.replace(
        item, vector=vectors[0], model=model
    ),
)
# Which articles a search looks at, by workspace and published-only: kept a few seconds
# (core.recent); the knowledge service forgets a workspace's when one of its articles changes.
_keys: Recent[tuple[str, bool], tuple[ArticleKey, ...]] = Recent(SETTINGS_SECONDS)


def articles_changed(session: AsyncSession, workspace_id: str) -> None:
    """Make the next searches look at the workspace's articles afresh (after this commit)."""
    for published_only in (True, False):
        _keys.forget_on_commit(session, (workspace_id, published_only))


def indexed(article: Article) -> Indexed:
    """Index one article: its plain text, BM25 counts and stored vector."""
    text, lines = plain_forms(article.body)
    vector = from_bytes(article.embedding) if article.embedding else None
    return Indexed(
        updated_at=article.updated_at,
        article_id=article.id,
        slug=article.slug,
        locale=article.locale,
        title=article.title,
        text=text,
        lines=lines,
        starts=ranking.word_starts(lines),
        document=ranking.document(article.title, text, article.tags or ()),
        vector=vector,
        model=article.embedding_model if vector is not None else None,
    )


def preferred_locales(locale: str | None, default_locale: str) -> list[str]:
    """Return the locales a search in `locale` accepts, best first (pt-BR, pt, default)."""
    if locale is None:
        return []
    chosen = [locale, locale.split("-")[0], default_locale]
    return list(dict.fromkeys(chosen))


def choose_versions(keys: Sequence[ArticleKey], preferred: list[str]) -> list[ArticleKey]:
    """Keep, per translation group, the version in the most preferred locale (all versions
    when no locale is preferred; a group with none of the locales is left out)."""
    if not preferred:
        return list(keys)
    rank = {locale: position for position, locale in enumerate(preferred)}
    best: dict[str, ArticleKey] = {}
    for key in keys:
        if key.locale not in rank:
            continue
        held = best.get(key.translation_group_id)
        if held is None or rank[key.locale] < rank[held.locale]:
            best[key.translation_group_id] = key
    return list(best.values())


async def load(
    repository: ArticleRepository, keys: Sequence[ArticleKey], model: str
) -> list[Indexed]:
    """Return the chosen articles indexed, reading only those changed since last time; those
    whose stored vector is missing or of another model are noted for `refresh_stale()`."""

    def entry(article: Article) -> tuple[str, Indexed]:
        return article.id, indexed(article)

    items = await read_indexed(index, keys, repository.with_ids, entry)
    for item in items:
        if item.model != model:
            stale.note(item)
    return items


def rank(
    query: str,
    query_vector: Vectors,
    items: Sequence[Indexed],
    *,
    model: str,
    preferred: list[str],
    limit: int,
) -> list[tuple[Indexed, float, float]]:
    """Score the items for the query; return the best hits with (keyword, semantic) scores,
    one per translation group's best version."""
    keyword = ranking.keyword_scores(query, [item.document for item in items])
    query_vector = np.asarray(query_vector).reshape(-1)
    # An article without a vector of the query's model (until refresh_stale) is found by words.
    usable = {
        position: item.vector
        for position, item in enumerate(items)
        if item.vector is not None and item.model == model and len(item.vector) == len(query_vector)
    }
    semantic = [0.0] * len(items)
    if usable:
        cosines = ranking.semantic_scores(query_vector, np.stack(list(usable.values())))
        for position, score in zip(usable, cosines, strict=True):
            semantic[position] = score
    preference = {locale: position for position, locale in enumerate(preferred)}
    scored = [
        (item, kw, sem)
        for item, kw, sem in zip(items, keyword, semantic, strict=True)
        if ranking.is_hit(kw, sem)
    ]
    scored.sort(
        key=lambda hit: (
            -ranking.combined(hit[1], hit[2]),
            -hit[1],
            preference.get(hit[0].locale, len(preference)),
            hit[0].article_id,
        )
    )
    return scored[:limit]


def hit(item: Indexed, keyword: float, semantic: float, query: str, url: str) -> ArticleHit:
    """Describe one ranked article."""
    return ArticleHit(
        article_id=item.article_id,
        slug=item.slug,
        locale=item.locale,
        title=item.title,
        snippet=ranking.snippet(item.lines, item.starts, query),
        url=url,
        score=round(ranking.combined(keyword, semantic), 4),
        keyword_score=round(keyword, 4),
        semantic_score=round(semantic, 4),
    )


async def hits(
    session: AsyncSession,
    workspace_id: str,
    query: str,
    *,
    default_locale: str,
    locale: str | None,
    limit: int,
    published_only: bool,
    query_vector: Vectors,
    model: str,
) -> list[tuple[Indexed, float, float]]:
    """Rank the workspace's articles (published only, or all) for an embedded query."""
    repository = ArticleRepository(session, workspace_id)
    preferred = preferred_locales(locale, default_locale)

    async def read() -> tuple[ArticleKey, ...]:
        return tuple(await repository.keys(published_only=published_only))

    keys = choose_versions(await _keys.load((workspace_id, published_only), read), preferred)
    items = await load(repository, keys, model)
    if not items:
        return []
    ranked = rank(query, query_vector, items, model=model, preferred=preferred, limit=len(items))
    return _one_per_group(ranked, keys, limit)


def _one_per_group(
    ranked: list[tuple[Indexed, float, float]], keys: Sequence[ArticleKey], limit: int
) -> list[tuple[Indexed, float, float]]:
    group_of = {key.id: key.translation_group_id for key in keys}
    seen: set[str] = set()
    kept = []
    for entry in ranked:
        group = group_of[entry[0].article_id]
        if group not in seen:
            seen.add(group)
            kept.append(entry)
    return kept[:limit]
