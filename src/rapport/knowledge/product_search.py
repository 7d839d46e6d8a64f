"""Answers from product fact sheets: which product a question names, and which of its facts
answer it (the ranking's words and MiniLM cosine, as articles are searched).

A question names a product when it holds enough of the product's name, each word weighted by
how rare it is among the catalog's names ("tote" tells more than "bag"), or its SKU. A question
whose words fit two products' names names neither ("the shirt" in a shop with two): the
customer is asked again rather than answered about the wrong one. The named product's facts
and description sentences are then scored against the rest of the question. Their vectors
are made when the sheet is written (and again before the next question, when the running
model is another: search.StaleVectors)."""

from __future__ import annotations

import dataclasses
import itertools
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
from rapport.knowledge.embedding import from_bytes
from rapport.knowledge.models import ProductSheet
from rapport.knowledge.repository import ArticleKey, ProductSheetRepository
from rapport.knowledge.schemas import Fact, ProductHit
from rapport.knowledge.search import (
    StaleVectors,
    VersionIndex,
    choose_versions,
    preferred_locales,
    read_indexed,
)
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
# The common facts of a product, as customers ask for them in the languages the assistant
# speaks: a fact whose whole name is one of a subject's words ("Preis", "Medidas") answers a
# question holding another ("Wie viel kostet die Tasche?"), where MiniLM cannot tell in other
# languages. A name with more in it ("Shipping cost", "Made in") is no common fact.
_SUBJECTS = (
    "price prices cost costs priced preis kostet kosten prix coute coutent couter tarif "
    "precio precios cuesta cuestan",
    "size sizes sizing dimensions measurements measure groesse groessen grosse grossen masse "
    "taille tailles dimension mesure mesures talla tallas tamano medida medidas mide miden",
    "care wash washable washing pflege waschen waschbar wasche waschmaschine entretien laver "
    "lavable lavage cuidado cuidados lavar lavado",
    "material materials fabric stoff gewebe matiere tissu composition tejido tela composicion",
    "colour colours color colors farbe farben couleur couleurs coloris colore colores",
)
SUBJECT_WORDS = tuple(frozenset(ranking.words(subject)) for subject in _SUBJECTS)
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
    sku_key: str | None  # the SKU as `sku_key` reads it, when it is distinctive enough
    sku_words: frozenset[str]
    url: str
    lines: tuple[Line, ...]
    vectors: Vectors | None = None
    model: str | None = None


index: VersionIndex[IndexedSheet] = VersionIndex()
# Which fact sheets a workspace has: kept a few seconds (core.recent); writing or deleting one
# forgets its workspace's.
_keys: Recent[str, tuple[ArticleKey, ...]] = Recent(SETTINGS_SECONDS)


# Sheets met with vectors of another model than the running one (or none): embedded again
# before the next answer's first statement (search.refresh_stale); until then they answer by
# shared words.
stale: StaleVectors[IndexedSheet] = StaleVectors(
    index,
    key=lambda sheet: sheet.sheet_id,
    texts=lambda sheet: line_texts(sheet.name, sheet.lines),
    with_vectors=lambda sheet, vectors, model: dataclasses.replace(
        sheet, vectors=vectors, model=model
    ),
)


def sku_key(text: str) -> str | None:
    """Return a SKU (or a word a customer wrote) in the form SKUs are compared in: letters
    and digits only, case-folded ("#LS-01" and "ls01" are "ls01"); None when it is too
    short or too plain to tell a product (fewer than four characters; digits only, under
    eight: an order number is not a SKU)."""
    key = re.sub(r"[\W_]+", "", text.casefold())
    if len(key) < 4 or (key.isdigit() and len(key) < 8):
        return None
    return key


def _sku_keys(query: str) -> set[str]:
    """Return the SKU forms a question holds: each word, and each pair of words ("LS 01")."""
    tokens = [re.sub(r"['\u2019]s$", "", token) for token in query.split()]
    found = {sku_key(token) for token in tokens}
    found |= {sku_key(first + second) for first, second in itertools.pairwise(tokens)}
    return {key for key in found if key is not None}


def sheets_changed(session: AsyncSession, workspace_id: str) -> None:
    """Make the next answers look at the workspace's fact sheets afresh (after this commit)."""
    _keys.forget_on_commit(session, workspace_id)


def lines_of(facts: Sequence[Sequence[str]], description: str) -> tuple[Line, ...]:
    """Return a sheet's lines: its facts, then its description's sentences."""
    lines = [
        Line(
            f"{name}: {value}",
            frozenset(ranking.words(f"{name} {value}")) | _subject_of(name),
            Fact.model_construct(name=name, value=value),  # as stored, not checked again
        )
        for name, value in facts
    ]
    sentences = [part.strip() for part in _SENTENCE_END.split(description) if part.strip()]
    lines += [
        Line(sentence, frozenset(ranking.words(sentence)), None)
        for sentence in sentences[:MAX_SENTENCES]
    ]
    return tuple(lines)


def _subject_of(fact_name: str) -> frozenset[str]:
    """Return the words customers ask a fact by, when its name is one of the common ones."""
    named = frozenset(ranking.words(fact_name))
    return next((words for words in SUBJECT_WORDS if named and named <= words), frozenset())


def line_texts(name: str, lines: Sequence[Line]) -> list[str]:
    """Return what a sheet's lines' vectors are made of: each line after the product's name."""
    return [f"{name}. {line.text}" for line in lines]


def sheet_texts(name: str, facts: Sequence[Sequence[str]], description: str) -> list[str]:
    """Return what a sheet's vectors are made of, from its name, facts and description."""
    return line_texts(name, lines_of(facts, description))


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
        sku_key=sku_key(sheet.sku) if sheet.sku else None,
        sku_words=frozenset(ranking.words(sheet.sku or "")),
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
    said = ranking.words(query)
    terms = set(said) - ranking.STOPWORDS
    if not terms:
        return []
    keys = choose_versions(every, preferred_locales(locale, default_locale))
    sheets = await read_indexed(index, keys, repository.with_ids, _entry)
    named = _named(sheets, said, terms, query)
    if named is None:
        return []
    sheet, name_score = named
    if sheet.lines and sheet.model != model:
        stale.note(sheet)
        sheet = dataclasses.replace(sheet, vectors=None)
    return _answer(sheet, name_score, terms, query_vector)


def _entry(sheet: ProductSheet) -> tuple[str, IndexedSheet]:
    return sheet.id, indexed(sheet)


def _named(
    sheets: Sequence[IndexedSheet], said: list[str], terms: set[str], query: str
) -> tuple[IndexedSheet, float] | None:
    """Return the one product the question names best, with how fully it names it; None
    when its words fit another product's name as well ("the shirt" with two shirts), or
    name part of it with another word in place of the rest ("the silk shirt" in a shop
    whose shirt is a hemp shirt: another product)."""
    quoted = _sku_keys(query)
    by_sku = [sheet for sheet in sheets if sheet.sku_key is not None and sheet.sku_key in quoted]
    if by_sku:
        return (by_sku[0], 1.0) if len({s.product_key for s in by_sku}) == 1 else None
    frequency = Counter(word for sheet in sheets for word in sheet.name_words)
    total = len(sheets)
    # (share of the name, words of it said): "the linen shirt dress" names the dress, whose
    # name it holds as fully as the shirt's, with one word more.
    scored: list[tuple[float, int, IndexedSheet]] = []
    for sheet in sheets:
        shared = sheet.name_words & terms
        if shared:
            weight = {word: math.log(1 + total / frequency[word]) for word in sheet.name_words}
            share = sum(weight[w] for w in shared) / sum(weight.values())
            scored.append((round(share, 9), len(shared), sheet))
    if not scored:
        return None
    scored.sort(key=lambda entry: (-entry[0], -entry[1]))
    share, said_words, named = scored[0]
    if share < NAME_SHARE or any(
        (other, count) == (share, said_words) and sheet.product_key != named.product_key
        for other, count, sheet in scored[1:]
    ):
        return None
    if share < 1.0:
        shared = named.name_words & terms
        others = [s for s in sheets if s.product_key != named.product_key]
        if any(shared <= s.name_words for s in others) or _other_word_before(said, shared, named):
            return None
    return named, share


def _other_word_before(said: list[str], shared: frozenset[str], named: IndexedSheet) -> bool:
    """Tell whether a word the product's name lacks comes right before one of the name's
    words in the question ("silk" in "the silk shirt")."""
    return any(
        word in shared
        and before.isalpha()
        and before not in ranking.STOPWORDS
        and before not in named.name_words
        for before, word in itertools.pairwise(said)
    )


def _answer(
    sheet: IndexedSheet, name_score: float, terms: set[str], query_vector: Vectors
) -> list[ProductHit]:
    rest = terms - sheet.name_words - sheet.sku_words
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
    query = np.asarray(query_vector).reshape(-1)
    semantic = sheet.locale.split("-")[0] in SEMANTIC_LANGUAGES
    usable = (
        semantic
        and sheet.vectors is not None
        and np.asarray(sheet.vectors).shape == (len(sheet.lines), len(query))
    )
    cosines = np.asarray(sheet.vectors) @ query if usable else np.zeros(len(sheet.lines))
    spread = float(cosines.std())
    standing = (cosines - float(cosines.mean())) / spread if spread > 0 else cosines * 0
    ranked = []
    for line, z in zip(sheet.lines, standing, strict=True):
        keyword = len(rest & line.words) / len(rest)
        if keyword > 0 or (line.fact is not None and z >= MIN_Z):
            meaning = min(1.0, max(0.0, float(z) / FULL_Z))
            # Without meanings to weigh (a sheet in another language), the words tell alone.
            ranked.append((ranking.combined(keyword, meaning) if semantic else keyword, line))
    ranked.sort(key=lambda entry: -entry[0])
    return ranked


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."
