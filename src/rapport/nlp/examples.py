"""Intents defined by a few examples each: a text belongs to the intent it is most similar to,
when that similarity reaches the intent's floor; a leave-one-out report tells how well a set
of examples separates its intents.

A text's similarity to an intent is the mean of two cosines of sentence embeddings: to the
intent's nearest example, and to the centroid of its examples. Why not a trained head: a
shop adds an intent with five sentences and expects it to work at once, with no training
job and no model file per workspace. Why both cosines: with 3-5 examples the centroid alone
catches more of an intent's messages than the nearest example alone at the same rate of
other messages wrongly taken, and with 10-20 the mean beats both; and a message worded like
an example is near-certain to match (its nearest cosine is 1). Measured with
`bench/custom_intents.py` on CLINC150; the figures are in docs/assistant.md, "Custom intents"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rapport.nlp.ports import Vectors

# Examples whose cosines the leave-one-out report holds at once.
BLOCK = 256
# The similarity a text needs to take an intent unless the intent sets its own: on CLINC150
# it let about 0.3-0.5 % of other messages through with 5-10 examples an intent.
DEFAULT_MIN_SIMILARITY = 0.68


@dataclass(frozen=True, slots=True)
class ExampleMatch:
    """The most similar intent, and the similarity (0-1) of the text to it."""

    label: str
    similarity: float


def _normalised(matrix: Vectors) -> Vectors:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return np.asarray(matrix / np.where(norms == 0, 1.0, norms), dtype=np.float32)


class ExampleIndex:
    """Example vectors (one row each) with their intents' labels, grouped by intent."""

    def __init__(self, labels: Sequence[str], vectors: Vectors) -> None:
        matrix = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if len(matrix) != len(labels):
            raise ValueError(f"{len(labels)} labels for {len(matrix)} vectors")
        order = sorted(range(len(labels)), key=lambda position: labels[position])
        self.labels = [labels[position] for position in order]
        self.vectors = _normalised(matrix[order]) if order else matrix
        self.intents = sorted(set(labels))
        sizes = Counter(self.labels)
        self.sizes = np.asarray([sizes[intent] for intent in self.intents], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.sums = (
            np.add.reduceat(self.vectors, self.starts, axis=0)
            if self.intents
            else np.zeros((0, matrix.shape[-1]), dtype=np.float32)
        )
        self.centroids = _normalised(self.sums)

    def __len__(self) -> int:
        return len(self.labels)

    def vectors_of(self, label: str) -> Vectors:
        """Return one intent's example vectors (normalised, in the order they were given)."""
        position = self.intents.index(label)
        start = int(self.starts[position])
        return self.vectors[start : start + int(self.sizes[position])]

    def similarities(self, vector: Vectors) -> Vectors:
        """Return the text's similarity to every intent (in `intents` order)."""
        query = _normalised(np.asarray(vector, dtype=np.float32).reshape(-1))
        if not self.intents or not query.any():
            return np.zeros(len(self.intents), dtype=np.float32)
        nearest = np.maximum.reduceat(self.vectors @ query, self.starts)
        return np.asarray((nearest + self.centroids @ query) / 2, dtype=np.float32)

    def match(
        self,
        vector: Vectors,
        min_similarity: float = DEFAULT_MIN_SIMILARITY,
        floors: Mapping[str, float] | None = None,
    ) -> ExampleMatch | None:
        """Return the most similar intent if the text reaches its floor (`floors`, else
        `min_similarity`)."""
        scores = self.similarities(vector)
        if scores.size == 0:
            return None
        best = int(np.argmax(scores))
        label, similarity = self.intents[best], float(scores[best])
        floor = (floors or {}).get(label, min_similarity)
        return ExampleMatch(label, similarity) if similarity >= floor else None


@dataclass(frozen=True, slots=True)
class LabelReport:
    """How one intent's examples fare when each is matched against all the others."""

    label: str
    examples: int
    matched: int  # matched to their own intent
    unmatched: int  # no intent similar enough
    confused_with: dict[str, int]  # matched to another intent, by that intent


def leave_one_out(
    index: ExampleIndex,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
    floors: Mapping[str, float] | None = None,
) -> list[LabelReport]:
    """Match every example as if it were not one (the others and the centroids without it);
    report per intent, by label. An intent's only example has nothing to match."""
    position_of = {intent: number for number, intent in enumerate(index.intents)}
    matched_to: dict[str, Counter[str]] = {intent: Counter() for intent in index.intents}
    unmatched: Counter[str] = Counter()
    for position, label in enumerate(index.labels):
        if position % BLOCK == 0:  # cosines a block of rows at a time: 5,000 x 5,000 is 100 MB
            cosines = index.vectors[position : position + BLOCK] @ index.vectors.T
        own = position_of[label]
        row = cosines[position % BLOCK].copy()
        row[position] = -np.inf
        nearest = np.maximum.reduceat(row, index.starts)
        centroid = index.centroids @ index.vectors[position]
        rest = index.sums[own] - index.vectors[position]
        rest_norm = float(np.linalg.norm(rest))
        centroid[own] = float(rest @ index.vectors[position]) / rest_norm if rest_norm else -np.inf
        scores = (nearest + centroid) / 2
        best = int(np.argmax(scores))
        found = index.intents[best]
        if not np.isfinite(scores[best]) or scores[best] < (floors or {}).get(
            found, min_similarity
        ):
            unmatched[label] += 1
        else:
            matched_to[label][found] += 1
    return [
        LabelReport(
            label=intent,
            examples=int(index.sizes[position_of[intent]]),
            matched=counts[intent],
            unmatched=unmatched[intent],
            confused_with={other: n for other, n in sorted(counts.items()) if other != intent},
        )
        for intent, counts in sorted(matched_to.items())
    ]
