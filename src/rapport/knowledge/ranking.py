"""Hybrid ranking, in plain Python and numpy: BM25 over words, cosine over embeddings, and
their weighted sum. Identical on every database: nothing here runs SQL."""

from __future__ import annotations

import bisect
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
# Words that ask or join rather than say what about: a question's "how", "which", "can I",
# and the articles and prepositions around them, in the languages the assistant speaks.
# Left in, a Spanish "cuánto" met "en cuanto" (as soon as) in an article about something else.
_STOP_TEXT = (
    # English
    "a about all also an and any are as at be been but by can could did do "
    "does for from get got had has have how i if in into is it its just me my need no "
    "not of on or our please should so than that the their them then there these they this "
    "to too up very was we were what when where which who why will with would you your "
    # German
    "ab aber alle als am an auch auf aus bei bis bitte da dann das dass dem der des "
    "die dies diese dieser du durch ein eine einem einen einer es fur gibt habe haben hier "
    "ich ihr ihre im in ist ja kann kannst konnen konnte mein meine mich mir mit muss "
    "nach nicht noch nur ob oder sein sich sie sind so soll sollte um und uns unser vom von "
    "vor warum was welche welcher welches wenn wer wie wieviel viel wir wird wo wurde zu zum "
    "zur uber "
    # French
    "a au aux avec ce ces cette combien comment dans de des donc du elle en est et etre "
    "faut il ils je la le les leur lui ma me mes moi mon ne nos notre nous on ou par pas "
    "peut peux pour pourquoi puis quand que quel quelle quelles quels qui quoi sa se ses "
    "si sont sur ta te tes toi tu un une vos votre vous y "
    # Spanish
    "a al algo como con cual cuales cuando cuanta cuanto cuantos de debo del donde el ella "
    "en es esa ese esta este esto estoy ha la las le les lo los me mi mis muy no nos o "
    "para pero por porque puede puedo que quien se si sin su sus te tengo tiene tu un una "
    "unas uno unos usted y ya"
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


# A query word no article holds is looked for as the start or the end of longer words, when
# it is at least this long and has no digit ("Versand" in "Versandzeiten", "Tasche" in
# "Tragetasche", "refund" in "refunded"); it counts PART_WEIGHT of a whole word (its IDF, in
# the score and in the sum it is divided by). A word ends another only after a front of
# MIN_FRONT letters or more, as a compound's first part is ("Trage-tasche"): "dress" does not
# end "address", nor "change" "exchange". At most MAX_PARTS words of a query are looked for
# so (a pasted paragraph of unknown words costs a few set lookups an article each).
MIN_PART = 5
MIN_FRONT = 4
PART_WEIGHT = 0.5
MAX_PARTS = 8


@dataclass(frozen=True, slots=True)
class Document:
    """One searchable article: its weighted word counts, its length in words, and for
    `part_count` its words sorted forwards and written backwards, and the first and last
    MIN_PART letters of its longer words (most words of a query are neither: two set
    lookups an article tell)."""

    counts: Counter[str]
    length: int
    forwards: tuple[str, ...]
    backwards: tuple[str, ...]
    heads: frozenset[str]
    tails: frozenset[str]


def document(title: str, text: str, tags: Sequence[str] = ()) -> Document:
    """Build the BM25 view of an article (title and tag words count TITLE_WEIGHT times)."""
    counts = Counter(words(text))
    for word in words(" ".join([title, *tags])):
        counts[word] += TITLE_WEIGHT
    longer = [word for word in counts if len(word) > MIN_PART]
    return Document(
        counts,
        sum(counts.values()),
        tuple(sorted(counts)),
        tuple(sorted(word[::-1] for word in counts)),
        frozenset(word[:MIN_PART] for word in longer),
        frozenset(word[-MIN_PART:] for word in longer),
    )


def part_count(doc: Document, term: str) -> int:
    """Count the document's words that start with `term`, or end with it after a front of
    MIN_FRONT letters or more (each word once)."""
    found = set(_starting_with(doc.forwards, term)) if term[:MIN_PART] in doc.heads else set()
    if term[-MIN_PART:] in doc.tails:
        found.update(
            word[::-1]
            for word in _starting_with(doc.backwards, term[::-1])
            if len(word) - len(term) >= MIN_FRONT
        )
    found.discard(term)
    return sum(doc.counts[word] for word in found)


def _starting_with(sorted_words: tuple[str, ...], part: str) -> list[str]:
    position = bisect.bisect_left(sorted_words, part)
    found = []
    while position < len(sorted_words) and sorted_words[position].startswith(part):
        found.append(sorted_words[position])
        position += 1
    return found


def keyword_scores(query: str, documents: Sequence[Document]) -> list[float]:
    """Score each document for the query by BM25, normalised to 0..1.

    Each query word a document holds contributes its IDF times BM25's saturating term
    frequency (length-normalised, capped at 1); the sum is divided by the IDF of every query
    word found in any document. Words no document holds cannot tell articles apart and are
    left out, as are stop words; a long one that no document holds whole counts where it
    begins or ends a word (German compounds, English endings), at PART_WEIGHT (see MIN_PART).
    """
    terms = {word for word in words(query) if word not in STOPWORDS}
    if not documents or not terms:
        return [0.0] * len(documents)
    found: dict[str, list[float]] = {}
    weights: dict[str, float] = {}
    parts = 0
    for term in sorted(terms, key=lambda word: (-len(word), word)):
        column = [float(doc.counts.get(term, 0)) for doc in documents]
        weights[term] = 1.0
        if not any(column) and _may_be_part(term) and parts < MAX_PARTS:
            parts += 1
            column = [float(part_count(doc, term)) for doc in documents]
            weights[term] = PART_WEIGHT
        if any(column):
            found[term] = column
    if not found:
        return [0.0] * len(documents)
    average = sum(doc.length for doc in documents) / len(documents) or 1.0
    idf = {
        term: weights[term] * math.log(1 + (len(documents) - held + 0.5) / (held + 0.5))
        for term, column in found.items()
        for held in [sum(1 for count in column if count)]
    }
    total = sum(idf.values())
    scores = []
    for position, doc in enumerate(documents):
        norm = K1 * (1 - B + B * doc.length / average)
        score = 0.0
        for term, weight in idf.items():
            count = found[term][position]
            if count:
                score += weight * min(1.0, count * (K1 + 1) / (count + norm))
        scores.append(score / total)
    return scores


def _may_be_part(term: str) -> bool:
    return len(term) >= MIN_PART and not any(character.isdigit() for character in term)


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
    """Return up to `limit` characters of an article's lines (`markdown.plain_lines`), from
    the sentence of the first query word found, else from the start; a word in a list or a
    table starts it at the line that leads into the list, unless the word's line would not
    fit then (a long list: from the word's line). It ends after the last whole line that fits
    (when that keeps half of it), with a line "…" when more follows, else at a word boundary
    with an ellipsis; `starts` is the text's `word_starts`."""
    wanted = {word for word in words(query) if word not in STOPWORDS}
    found = [starts[word] for word in wanted if word in starts]
    start = 0
    if found:
        first = min(found)
        start = _start(text, first)
        line_end = text.find("\n", first)
        if (len(text) if line_end < 0 else line_end) - start > limit:
            start = text.rfind("\n", 0, first) + 1
    piece = text[start:].strip()
    if len(piece) <= limit:
        return piece
    line_end = piece.rfind("\n", 0, limit - 2)
    if line_end >= limit // 2:
        return piece[:line_end].rstrip() + "\n…"
    cut = piece[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return f"{cut}…"


_LISTED = re.compile(r"(?:- |\d+\. )|.* \| ")  # a list item's or a table row's line


def _start(text: str, position: int) -> int:
    """Return where the snippet of a word at `position` starts: its sentence, or for a word
    in a list or table, the last sentence of the line before the list."""
    line = text.rfind("\n", 0, position) + 1
    if not _LISTED.match(text, line):
        return _sentence_start(text, line, position)
    while line > 0:
        before = text.rfind("\n", 0, line - 1) + 1
        if not _LISTED.match(text, before):
            return _sentence_start(text, before, line - 1)
        line = before
    return 0


def _sentence_start(text: str, line: int, position: int) -> int:
    ends = [text.rfind(mark, line, position) for mark in (". ", "! ", "? ")]
    found = max(ends)
    return line if found < 0 else found + 2
