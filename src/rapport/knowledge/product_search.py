"""Answers from product fact sheets: which product a question names, and which of its facts
answer it (the ranking's words and MiniLM cosine, as articles are searched).

A question names a product when it holds enough of the product's name, each word weighted by
how rare it is among the catalog's names ("tote" tells more than "bag"), or its SKU. A question
whose words fit two products' names names neither ("the shirt" in a shop with two): the
customer is asked again rather than answered about the wrong one. The named product's facts
and description sentences are then scored against the rest of the question. Their vectors
are made when the sheet is written (and again, in a thread, only when the running model is
another)."""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.recent import SETTINGS_SECONDS, Recent
from rapport.knowledge import ranking
from rapport.knowledge.embedding import embed, from_bytes
from rapport.knowledge.models import ProductSheet
from rapport.knowledge.repository import ArticleKey, ProductSheetRepository
from rapport.knowledge.schemas import Fact, ProductHit
from rapport.knowledge.search import VersionIndex, choose_versions, preferred_locales
from rapport.nlp.ports import Vectors

# A question names a product when it holds this share of the name's (rarity-weighted) words
# ("the tote" names the "Canvas tote bag" of a shop whose every bag is a bag: 0.4).
NAME_SHARE = 0.3
# The share of a hit's score that naming the product gives; the best line gives the rest.
NAME_WEIGHT = 0.5
# A question that is only the product's name is answered with its first line, scored so.
NAME_ONLY_LINE = 0.5
# A second line is shown when it scores this close to the best.
SECOND_LINE = 0.75
# Lines are embedded after the product's name, so every line of a product is close to a
# question that names it: a line's meaning counts by how far it stands out from the sheet's
# other lines (its cosine's z-score among them). Without a shared word, a fact answers only
# when it stands out by MIN_Z (so a sheet needs four lines or more for it), and counts in
# full at FULL_Z; a description sentence always needs a shared word. Chosen on 43 questions
# about the demo sheets (bench/product_answers.py; docs/knowledge.md).
MIN_Z = 1.5
FULL_Z = 3.0
# The languages whose sheets a line's meaning alone may answer from: MiniLM-L6 learned
# English, and on the Spanish demo sheet wrong lines stood out as far as right ones do in
# English. In other languages a line answers through a shared word.
SEMANTIC_LANGUAGES = frozenset({"en"})
MAX_SENTENCES = 20
_PUNCTUATION = ".,;:!?¿¡()[]\"'«»“”"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class Line:
    """A fact ("Material: linen") or a sentence of the description."""

    text: str
    words: frozenset[str]
    fact: Fact | None


@dataclass(frozen=True, slots=True)
class IndexedSheet:
    """A fact sheet as answering sees it; valid while its `updated_at` is unchanged."""

    updated_at: datetime
    sheet_id: str
    product_key: str
    locale: str
    name: str
    name_words: frozenset[str]
    sku: str | None
    url: str
    lines: tuple[Line, ...]
    vectors: Vectors | None = None
    model: str | None = None


index: VersionIndex[IndexedSheet] = VersionIndex()
# Which fact sheets a workspace has: kept a few seconds (core.recent); writing or deleting one
# forgets its workspace's.
_keys: Recent[str, tuple[ArticleKey, ...]] = Recent(SETTINGS_SECONDS)


def sheets_changed(session: AsyncSession, workspace_id: str) -> None:
    """Make the next answers look at the workspace's fact sheets afresh (after this commit)."""
    _keys.forget_on_commit(session, workspace_id)


def lines_of(facts: Sequence[Sequence[str]], description: str) -> tuple[Line, ...]:
    """Return a sheet's lines: its facts, then its description's sentences."""
    lines = [
        Line(
            f"{name}: {value}",
            frozenset(ranking.words(f"{name} {value}")),
            Fact(name=name, value=value),
        )
        for name, value in facts
    ]
    sentences = [part.strip() for part in _SENTENCE_END.split(description) if part.strip()]
    lines += [
        Line(sentence, frozenset(ranking.words(sentence)), None)
        for sentence in sentences[:MAX_SENTENCES]
    ]
    return tuple(lines)


def line_texts(name: str, lines: Sequence[Line]) -> list[str]:
    """Return what a sheet's lines' vectors are made of: each line after the product's name."""
    return [f"{name}. {line.text}" for line in lines]


def indexed(sheet: ProductSheet) -> IndexedSheet:
    """Index one fact sheet: its name's words, its lines and their stored vectors."""
    lines = lines_of(sheet.facts, sheet.description)
    vectors = None
    if sheet.embedding and lines:
        stored = from_bytes(sheet.embedding)
        if len(stored) % len(lines) == 0:
            vectors = stored.reshape(len(lines), -1)
    return IndexedSheet(
        updated_at=sheet.updated_at,
        sheet_id=sheet.id,
        product_key=sheet.product_key,
        locale=sheet.locale,
        name=sheet.name,
        name_words=frozenset(ranking.words(sheet.name)) - ranking.STOPWORDS,
        sku=sheet.sku.casefold() if sheet.sku else None,
        url=sheet.url or "",
        lines=lines,
        vectors=vectors,
        model=sheet.embedding_model if vectors is not None else None,
    )


async def answers(
    session: AsyncSession,
    workspace_id: str,
    query: str,
    *,
    query_vector: Vectors,
    model: str,
    default_locale: str,
    locale: str | None,
) -> list[ProductHit]:
    """Return the named product's facts that answer the question (none or one hit)."""
    repository = ProductSheetRepository(session, workspace_id)

    async def read() -> tuple[ArticleKey, ...]:
        return tuple(await repository.keys())

    every = await _keys.load(workspace_id, read)
    if not every:
        return []
    terms = set(ranking.words(query)) - ranking.STOPWORDS
    if not terms:
        return []
    keys = choose_versions(every, preferred_locales(locale, default_locale))
    sheets = await _load(repository, keys)
    named = _named(sheets, terms, query)
    if named is None:
        return []
    sheet, name_score = named
    if sheet.model != model:
        sheet = await _embedded(sheet, model)
    return _answer(sheet, name_score, terms, query_vector)


async def _load(
    repository: ProductSheetRepository, keys: Sequence[ArticleKey]
) -> list[IndexedSheet]:
    found = {key.id: index.fresh(key) for key in keys}
    missing = [key_id for key_id, item in found.items() if item is None]
    for sheet in await repository.with_ids(missing):
        item = indexed(sheet)
        index.store(item.sheet_id, item)
        found[sheet.id] = item
    return [item for item in found.values() if item is not None]


def _named(
    sheets: Sequence[IndexedSheet], terms: set[str], query: str
) -> tuple[IndexedSheet, float] | None:
    """Return the one product the question names best, with how fully it names it; None
    when its words fit another product's name as well ("the shirt" with two shirts)."""
    tokens = {token.strip(_PUNCTUATION).casefold() for token in query.split()}
    by_sku = [sheet for sheet in sheets if sheet.sku is not None and sheet.sku in tokens]
    if by_sku:
        return (by_sku[0], 1.0) if len({s.product_key for s in by_sku}) == 1 else None
    frequency = Counter(word for sheet in sheets for word in sheet.name_words)
    total = len(sheets)
    best: tuple[float, IndexedSheet] | None = None
    for sheet in sheets:
        shared = sheet.name_words & terms
        if not shared:
            continue
        weight = {word: math.log(1 + total / frequency[word]) for word in sheet.name_words}
        share = sum(weight[word] for word in shared) / sum(weight.values())
        if best is None or share > best[0]:
            best = (share, sheet)
    if best is None or best[0] < NAME_SHARE:
        return None
    share, named = best
    said = named.name_words & terms
    if any(s.product_key != named.product_key and said <= s.name_words for s in sheets):
        return None
    return named, share


async def _embedded(sheet: IndexedSheet, model: str) -> IndexedSheet:
    vectors, made_by = await embed(line_texts(sheet.name, sheet.lines))
    ready = dataclasses.replace(sheet, vectors=vectors, model=made_by)
    index.store(ready.sheet_id, ready)
    return ready


def _answer(
    sheet: IndexedSheet, name_score: float, terms: set[str], query_vector: Vectors
) -> list[ProductHit]:
    rest = terms - sheet.name_words - ({sheet.sku} if sheet.sku else set())
    ranked = _ranked_lines(sheet, rest, query_vector)
    if not ranked:
        return []
    best_score = ranked[0][0]
    shown = [line for score, line in ranked[:2] if score >= SECOND_LINE * best_score]
    facts = [line.fact for line in shown if line.fact is not None]
    if len(shown) == 1 and shown[0].fact is not None:
        title, snippet = f"{sheet.name} — {shown[0].fact.name}", shown[0].fact.value
    else:
        title, snippet = sheet.name, " ".join(_sentence(line.text) for line in shown)
    score = NAME_WEIGHT * name_score + (1 - NAME_WEIGHT) * best_score
    return [
        ProductHit(
            product_key=sheet.product_key,
            locale=sheet.locale,
            title=title,
            facts=facts,
            snippet=snippet,
            url=sheet.url,
            score=round(min(1.0, max(0.0, score)), 4),
        )
    ]


def _ranked_lines(
    sheet: IndexedSheet, rest: set[str], query_vector: Vectors
) -> list[tuple[float, Line]]:
    """Score the sheet's lines for what the question asks beyond naming the product, best
    first; a question that only names it gets its description's first sentence."""
    if not sheet.lines:
        return []
    if not rest:
        sentences = [line for line in sheet.lines if line.fact is None]
        return [(NAME_ONLY_LINE, (sentences or list(sheet.lines))[0])]
    cosines = (
        np.asarray(sheet.vectors) @ np.asarray(query_vector).reshape(-1)
        if sheet.vectors is not None and sheet.locale.split("-")[0] in SEMANTIC_LANGUAGES
        else np.zeros(len(sheet.lines))
    )
    spread = float(cosines.std())
    standing = (cosines - float(cosines.mean())) / spread if spread > 0 else cosines * 0
    ranked = []
    for line, z in zip(sheet.lines, standing, strict=True):
        keyword = len(rest & line.words) / len(rest)
        if keyword > 0 or (line.fact is not None and z >= MIN_Z):
            meaning = min(1.0, max(0.0, float(z) / FULL_Z))
            ranked.append((ranking.combined(keyword, meaning), line))
    ranked.sort(key=lambda entry: -entry[0])
    return ranked


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."
