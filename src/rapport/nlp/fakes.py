"""Deterministic fakes of the NLP ports, for tests of the code that uses them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rapport.nlp.embeddings import HashingEmbedder
from rapport.nlp.ports import (
    IntentPrediction,
    LanguageResult,
    SentimentLabel,
    SentimentResult,
    Vectors,
)


class FakeEmbedder:
    """Hashed n-grams in 64 dimensions: the same text always gives the same vector."""

    name = "fake-embedder"
    dimension = 64

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts by hashing their n-grams."""
        return HashingEmbedder(self.dimension).embed(texts)


class FakeIntentClassifier:
    """The first keyword found in the text decides the intent; none means out of scope."""

    def __init__(self, keywords: Mapping[str, str], languages: Sequence[str] = ("en",)) -> None:
        self._keywords = dict(keywords)
        self.languages = tuple(languages)

    @property
    def labels(self) -> list[str]:
        """Return the intents the keywords lead to."""
        return sorted(set(self._keywords.values()))

    def predict(self, texts: Sequence[str]) -> list[IntentPrediction]:
        """Predict by keyword, with confidence 1.0 for a hit and 0.0 for a miss."""
        return [self._one(text.lower()) for text in texts]

    def _one(self, text: str) -> IntentPrediction:
        for keyword, label in self._keywords.items():
            if keyword in text:
                return IntentPrediction(label, 1.0, False)
        return IntentPrediction("out_of_scope", 0.0, True)


class FakeSentimentAnalyzer:
    """Counts a few positive and negative words."""

    POSITIVE = frozenset({"good", "great", "love", "thanks", "excellent"})
    NEGATIVE = frozenset({"bad", "terrible", "hate", "awful", "broken"})

    def analyze(
        self, texts: Sequence[str], languages: Sequence[LanguageResult] | None = None
    ) -> list[SentimentResult]:
        """Score each text as (positive - negative words) / words, labelled by sign (in any
        language)."""
        if languages is not None and len(languages) != len(texts):
            raise ValueError("one language a text")
        results = []
        for text in texts:
            words = text.lower().split()
            balance = sum(w in self.POSITIVE for w in words)
            balance -= sum(w in self.NEGATIVE for w in words)
            score = balance / max(len(words), 1)
            label: SentimentLabel = "neutral"
            if balance:
                label = "positive" if balance > 0 else "negative"
            results.append(SentimentResult(label, score))
        return results


class FakeLanguageDetector:
    """Always answers the language it was given."""

    def __init__(self, language: str = "en") -> None:
        self._language = language

    def detect(self, text: str) -> LanguageResult:
        """Return the configured language with full confidence."""
        return LanguageResult(self._language, 1.0)
