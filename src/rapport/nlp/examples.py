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
from numpy.typing import NDArray

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
    """Example vectors (one row each) with their intents' labels, grouped by intent and, within
    an intent, by `groups` (its examples in one language, say: each group is matched as an
    intent of its own, and the intent takes its best group's similarity; without groups an
    intent is one group)."""

    def __init__(
        self, labels: Sequence[str], vectors: Vectors, groups: Sequence[str] | None = None
    ) -> None:
        matrix = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if len(matrix) != len(labels):
            raise ValueError(f"{len(labels)} labels for {len(matrix)} vectors")
        grouped = list(groups) if groups is not None else [""] * len(labels)
        if len(grouped) != len(labels):
            raise ValueError(f"{len(grouped)} groups for {len(labels)} labels")
        order = sorted(range(len(labels)), key=lambda at: (labels[at], grouped[at], at))
        self.labels = [labels[position] for position in order]
        self.positions = np.asarray(order, dtype=np.int64)  # each row's place as given
        self.vectors = _normalised(matrix[order]) if order else matrix
        self.intents = sorted(set(labels))
        sizes = Counter(self.labels)
        self.sizes = np.asarray([sizes[intent] for intent in self.intents], dtype=np.int64)
        self.starts = _starts(self.sizes)
        self.sums = self._summed(self.starts)
        self.centroids = _normalised(self.sums)
        # Units: an intent's examples of one group, in row order.
        keys = [
            (label, grouped[position]) for label, position in zip(self.labels, order, strict=True)
        ]
        unit_sizes = Counter(keys)
        units = sorted(unit_sizes)
        self.unit_sizes = np.asarray([unit_sizes[unit] for unit in units], dtype=np.int64)
        self.unit_starts = _starts(self.unit_sizes)
        self.unit_sums = self._summed(self.unit_starts)
        self.unit_centroids = _normalised(self.unit_sums)
        self.unit_of_row = np.repeat(np.arange(len(units), dtype=np.int64), self.unit_sizes)
        # Each intent's first unit (units are sorted by intent first).
        self.intent_units = np.searchsorted([label for label, _ in units], self.intents).astype(
            np.int64
        )

    def _summed(self, starts: NDArray[np.int64]) -> Vectors:
        if not len(starts):
            return np.zeros((0, self.vectors.shape[-1]), dtype=np.float32)
        return np.asarray(np.add.reduceat(self.vectors, starts, axis=0), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.labels)

    def vectors_of(self, label: str) -> Vectors:
        """Return one intent's example vectors (normalised, in the order they were given)."""
        position = self.intents.index(label)
        start = int(self.starts[position])
        rows = np.arange(start, start + int(self.sizes[position]))
        return self.vectors[rows[np.argsort(self.positions[rows])]]

    def similarities(self, vector: Vectors) -> Vectors:
        """Return the text's similarity to every intent (in `intents` order): its best
        group's mean of the cosines to the group's nearest example and to its centroid."""
        query = _normalised(np.asarray(vector, dtype=np.float32).reshape(-1))
        if not self.intents or not query.any():
            return np.zeros(len(self.intents), dtype=np.float32)
        nearest = np.maximum.reduceat(self.vectors @ query, self.unit_starts)
        units = (nearest + self.unit_centroids @ query) / 2
        return np.asarray(np.maximum.reduceat(units, self.intent_units), dtype=np.float32)

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


def _starts(sizes: NDArray[np.int64]) -> NDArray[np.int64]:
    if not len(sizes):
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


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
        unit = int(index.unit_of_row[position])
        row = cosines[position % BLOCK].copy()
        row[position] = -np.inf
        nearest = np.maximum.reduceat(row, index.unit_starts)
        centroid = index.unit_centroids @ index.vectors[position]
        if index.unit_sizes[unit] > 1:
            rest = index.unit_sums[unit] - index.vectors[position]
            rest_norm = float(np.linalg.norm(rest))
            own = float(rest @ index.vectors[position])
            centroid[unit] = own / rest_norm if rest_norm else -np.inf
        else:  # the group's only example: nothing of it is left to match
            centroid[unit] = -np.inf
        scores = np.maximum.reduceat((nearest + centroid) / 2, index.intent_units)
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
