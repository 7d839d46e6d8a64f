"""Hybrid ranking, in plain Python and numpy: BM25 over words, cosine over embeddings, and
their weighted sum. Identical on every database: nothing here runs SQL."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rapport.nlp.ports import Vectors

# BM25's usual constants; the title counts twice (it says what the article is about).
K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2
# score = KEYWORD_WEIGHT * keyword_score + (1 - KEYWORD_WEIGHT) * semantic_score
KEYWORD_WEIGHT = 0.5
# Without a shared word an article is a hit only when its meaning is this close.
SEMANTIC_FLOOR = 0.35
SNIPPET_CHARS = 300
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP_TEXT = (
    "a an and are as at be but by can do does for from how i if in is it me my of on or our "
    "so that the this to was we what when where which who why will with you your "
    "der die das und ist ich mein meine wie wo was wann ein eine zu mit von auf fur es sie "
    "de en le la les un une des du au aux et est je mon ma mes ce cette vous pour avec dans "
    "qui quoi "
    "el los las unos unas del al y que se su sus lo mi mis por para con como puedo puede"
)


def words(text: str) -> list[str]:
    """Return the text's words, case-folded, accents removed and a plural -s dropped."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return [_stem(word) for word in _WORD.findall(plain)]


def _stem(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


STOPWORDS = frozenset(words(_STOP_TEXT))


@dataclass(frozen=True, slots=True)
class Document:
    """One searchable article: its weighted word counts and its length in words."""

    counts: Counter[str]
    length: int


def document(title: str, text: str) -> Document:
    """Build the BM25 view of an article (title words count TITLE_WEIGHT times)."""
    counts = Counter(words(text))
    for word in words(title):
        counts[word] += TITLE_WEIGHT
    return Document(counts, sum(counts.values()))


def keyword_scores(query: str, documents: Sequence[Document]) -> list[float]:
    """Score each document for the query by BM25, normalised to 0..1.

    Each query word a document holds contributes its IDF times BM25's saturating term
    frequency (length-normalised, capped at 1); the sum is divided by the IDF of every query
    word found in any document. Words no document holds cannot tell articles apart and are
    left out, as are stop words."""
    terms = {word for word in words(query) if word not in STOPWORDS}
    if not documents or not terms:
        return [0.0] * len(documents)
    average = sum(doc.length for doc in documents) / len(documents) or 1.0
    frequency = {term: sum(1 for doc in documents if term in doc.counts) for term in terms}
    idf = {
        term: math.log(1 + (len(documents) - found + 0.5) / (found + 0.5))
        for term, found in frequency.items()
        if found
    }
    total = sum(idf.values())
    if total == 0:
        return [0.0] * len(documents)
    return [_bm25(doc, idf, average) / total for doc in documents]


def _bm25(doc: Document, idf: dict[str, float], average: float) -> float:
    norm = K1 * (1 - B + B * doc.length / average)
    score = 0.0
    for term, weight in idf.items():
        count = doc.counts.get(term, 0)
        if count:
            score += weight * min(1.0, count * (K1 + 1) / (count + norm))
    return score


def semantic_scores(query: Vectors, vectors: Vectors) -> list[float]:
    """Return each vector's cosine to the query (both normalised), clipped to 0..1."""
    if len(vectors) == 0:
        return []
    cosines = np.clip(vectors @ query.reshape(-1), 0.0, 1.0)
    return [float(value) for value in cosines]


def combined(keyword: float, semantic: float) -> float:
    """Fuse the two scores into one in 0..1 (a weighted sum; see KEYWORD_WEIGHT)."""
    return KEYWORD_WEIGHT * keyword + (1 - KEYWORD_WEIGHT) * semantic


def is_hit(keyword: float, semantic: float) -> bool:
    """Tell whether an article matches at all: a shared word, or a close enough meaning."""
    return keyword > 0 or semantic >= SEMANTIC_FLOOR


def word_starts(text: str) -> dict[str, int]:
    """Return where each word (as `words` reads it) first occurs in the text, for `snippet`:
    worked out once an article, not once a search."""
    starts: dict[str, int] = {}
    for match in _WORD.finditer(text):
        found = words(match.group())
        if found and found[0] not in starts:
            starts[found[0]] = match.start()
    return starts


def snippet(text: str, starts: dict[str, int], query: str, limit: int = SNIPPET_CHARS) -> str:
    """Return up to `limit` characters of plain text, from the sentence of the first query
    word found (else from the start), cut at a word boundary with an ellipsis; `starts` is
    the text's `word_starts`."""
    wanted = {word for word in words(query) if word not in STOPWORDS}
    found = [starts[word] for word in wanted if word in starts]
    start = _sentence_start(text, min(found)) if found else 0
    piece = text[start:].strip()
    if len(piece) <= limit:
        return piece
    cut = piece[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return f"{cut}…"


def _sentence_start(text: str, position: int) -> int:
    ends = [text.rfind(mark, 0, position) for mark in (". ", "! ", "? ")]
    found = max(ends)
    return 0 if found < 0 else found + 2
