"""Sentiment: a linear regression head over MiniLM, n-gram and VADER lexicon features predicting
a rater's mean score (-4..4), trained on VADER's ground-truth tweets, movie and editorial
snippets (MIT)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from rapport.nlp.embeddings import HASHING_NAME
from rapport.nlp.features import combine, ngram_features
from rapport.nlp.ports import Embedder, SentimentLabel, SentimentResult

MODEL_DIR = Path(__file__).parent / "data" / "sentiment"
SCALE = 4.0  # raters scored -4..4; results are reported in -1..1


@dataclass(frozen=True, slots=True)
class SentimentHead:
    """Regression weights and the neutral band around zero, on the raters' scale."""

    weights: NDArray[np.float32]
    bias: float
    neutral_band: float


class LexiconFeatures:
    """VADER's compound, positive, negative and neutral scores of each text."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()

    def __call__(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return one row of four scores per text."""
        keys = ("compound", "pos", "neg", "neu")
        scores = [self._vader.polarity_scores(text) for text in texts]
        return np.array([[score[key] for key in keys] for score in scores], dtype=np.float32)


def sentiment_features(
    texts: Sequence[str], embeddings: NDArray[np.float32] | None, lexicon: LexiconFeatures
) -> sparse.csr_matrix:
    """Return the lexicon scores, then the embedding (if any), then the n-grams."""
    features = combine(embeddings, ngram_features(texts))
    return sparse.csr_matrix(sparse.hstack([sparse.csr_matrix(lexicon(texts)), features]))


class LinearSentimentAnalyzer:
    """The SentimentAnalyzer port: the embedding head when its embedder is here, else n-grams."""

    def __init__(self, heads: dict[str, SentimentHead], embedder: Embedder | None) -> None:
        use_embedding = embedder is not None and embedder.name in heads
        self.name = embedder.name if use_embedding and embedder else HASHING_NAME
        self._head = heads[self.name]
        self._embedder = embedder if use_embedding else None
        self._lexicon = LexiconFeatures()

    def scores(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return the predicted mean rating (-4..4) of each text."""
        embeddings = self._embedder.embed(texts) if self._embedder is not None else None
        features = sentiment_features(texts, embeddings, self._lexicon)
        raw = np.asarray(features @ self._head.weights).ravel() + self._head.bias
        return raw.astype(np.float32)

    def analyze(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Label each text negative, neutral or positive, with a score in [-1, 1]."""
        if not texts:
            return []
        band = self._head.neutral_band
        return [
            SentimentResult(label_for(float(raw), band), float(np.clip(raw / SCALE, -1.0, 1.0)))
            for raw in self.scores(texts)
        ]


def label_for(raw: float, band: float) -> SentimentLabel:
    """Return the label of a rating given the neutral band's half-width."""
    if raw > band:
        return "positive"
    if raw < -band:
        return "negative"
    return "neutral"


def save_heads(
    heads: dict[str, SentimentHead], directory: Path, metadata: dict[str, object]
) -> None:
    """Write weights.npz (no pickle) and metadata.json."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {f"weights_{index}": head.weights for index, head in enumerate(heads.values())}
    np.savez_compressed(directory / "weights.npz", **arrays)  # type: ignore[arg-type]
    specs = [
        {"features": name, "bias": head.bias, "neutral_band": head.neutral_band}
        for name, head in heads.items()
    ]
    (directory / "metadata.json").write_text(json.dumps({**metadata, "heads": specs}, indent=2))


def load_heads(directory: Path = MODEL_DIR) -> dict[str, SentimentHead]:
    """Read the heads written by `save_heads`."""
    specs = json.loads((directory / "metadata.json").read_text())["heads"]
    with np.load(directory / "weights.npz", allow_pickle=False) as arrays:
        return {
            spec["features"]: SentimentHead(
                arrays[f"weights_{index}"].astype(np.float32),
                float(spec["bias"]),
                float(spec["neutral_band"]),
            )
            for index, spec in enumerate(specs)
        }


def load_sentiment(
    embedder: Embedder | None, directory: Path = MODEL_DIR
) -> LinearSentimentAnalyzer:
    """Return the shipped sentiment model for this embedder (n-grams when it has no head)."""
    return LinearSentimentAnalyzer(load_heads(directory), embedder)
