"""The NLP ports: small Protocols and the plain results they return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

SentimentLabel = Literal["negative", "neutral", "positive"]
Vectors = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class IntentPrediction:
    """The most likely intent, its calibrated probability, and whether it is out of scope."""

    label: str
    confidence: float
    out_of_scope: bool


@dataclass(frozen=True, slots=True)
class SentimentResult:
    """A sentiment label with a score in [-1, 1] (negative to positive)."""

    label: SentimentLabel
    score: float


@dataclass(frozen=True, slots=True)
class LanguageResult:
    """An ISO 639-1 language code with the detector's probability."""

    language: str
    confidence: float


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...


class IntentClassifier(Protocol):
    """Predicts an intent (or out of scope) for each text."""

    @property
    def labels(self) -> list[str]: ...

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages it was trained to read (ISO 639-1)."""
        ...

    def predict(self, texts: Sequence[str]) -> list[IntentPrediction]: ...


class SentimentAnalyzer(Protocol):
    """Scores the sentiment of chat messages, emails, survey comments and reviews."""

    def analyze(
        self, texts: Sequence[str], languages: Sequence[LanguageResult] | None = None
    ) -> list[SentimentResult]:
        """Label each text; `languages`, one per text, where the caller has told them
        already (the analyzer then does not tell them again)."""
        ...


class LanguageDetector(Protocol):
    """Detects the language of a text."""

    def detect(self, text: str) -> LanguageResult: ...
