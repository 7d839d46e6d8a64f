"""Intents defined by a few examples each: a text belongs to the intent of its nearest example
(cosine of sentence embeddings) when that example is close enough, and a leave-one-out report
tells how well a set of examples separates its intents.

Why the nearest example and not a trained head: a shop adds an intent with five sentences and
expects it to work at once, with no training job and no model file per workspace. Measured on
CLINC150 (10 of its intents taken as a shop's own with 5 examples each, the other 140 as
everything else customers say), the nearest example at cosine 0.7 caught 46 % of the own
intents' test queries while matching 0.45 % of the others (docs/assistant.md, "Custom intents")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rapport.nlp.ports import Vectors

# The cosine a text's nearest example must reach for its intent to be the text's.
DEFAULT_MIN_SIMILARITY = 0.7


@dataclass(frozen=True, slots=True)
class ExampleMatch:
    """The intent of the nearest example, and its cosine to the text."""

    label: str
    similarity: float


class ExampleIndex:
    """Example vectors (one row each) with their intents' labels."""

    def __init__(self, labels: Sequence[str], vectors: Vectors) -> None:
        matrix = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if len(matrix) != len(labels):
            raise ValueError(f"{len(labels)} labels for {len(matrix)} vectors")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.labels = list(labels)
        self.vectors = matrix / np.where(norms == 0, 1.0, norms)

    def __len__(self) -> int:
        return len(self.labels)

    def similarities(self, vector: Vectors) -> Vectors:
        """Return every example's cosine to one vector."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(query))
        if norm == 0 or not self.labels:
            return np.zeros(len(self.labels), dtype=np.float32)
        return np.asarray(self.vectors @ (query / norm), dtype=np.float32)

    def match(
        self, vector: Vectors, min_similarity: float = DEFAULT_MIN_SIMILARITY
    ) -> ExampleMatch | None:
        """Return the nearest example's intent if it reaches `min_similarity`."""
        scores = self.similarities(vector)
        if scores.size == 0:
            return None
        best = int(np.argmax(scores))
        similarity = float(scores[best])
        return ExampleMatch(self.labels[best], similarity) if similarity >= min_similarity else None


@dataclass(frozen=True, slots=True)
class LabelReport:
    """How one intent's examples fare when each is matched against all the others."""

    label: str
    examples: int
    matched: int  # matched to their own intent
    unmatched: int  # no example close enough
    confused_with: dict[str, int]  # matched to another intent, by that intent


def leave_one_out(
    index: ExampleIndex, min_similarity: float = DEFAULT_MIN_SIMILARITY
) -> list[LabelReport]:
    """Match every example against the other examples; report per intent, by label."""
    matched_to: dict[str, Counter[str]] = {label: Counter() for label in index.labels}
    unmatched: Counter[str] = Counter()
    for position, label in enumerate(index.labels):
        scores = index.similarities(index.vectors[position])
        scores[position] = -np.inf
        best = int(np.argmax(scores))
        if best == position or scores[best] < min_similarity:
            unmatched[label] += 1
        else:
            matched_to[label][index.labels[best]] += 1
    sizes = Counter(index.labels)
    return [
        LabelReport(
            label=label,
            examples=sizes[label],
            matched=counts[label],
            unmatched=unmatched[label],
            confused_with={other: n for other, n in sorted(counts.items()) if other != label},
        )
        for label, counts in sorted(matched_to.items())
    ]
