"""Sentiment: a linear regression head over MiniLM, n-gram, VADER lexicon and VADER rule features
predicting a rater's mean score (-4..4), trained on VADER's ground-truth tweets, movie and
editorial snippets (MIT) and our own shop texts. Emoji are read as their names, so emoji-only
messages get a label. A text told to be in another language than English (as the labels
store it: a FocusedDetector among the model's languages) is read by a second head of the same
features, fitted also on our French, German and Spanish shop texts: the English head stays as
English alone trained it."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from rapport.nlp.embeddings import HASHING_NAME
from rapport.nlp.features import beside, combine, ngram_features, sparse_dot
from rapport.nlp.language import ENGLISH, LANGUAGE_SURE, FocusedDetector, not_english
from rapport.nlp.ports import Embedder, LanguageDetector, SentimentLabel, SentimentResult

MODEL_DIR = Path(__file__).parent / "data" / "sentiment"
# The heads for text in other languages are stored under their features' name and this.
OTHER_LANGUAGES = "/other-languages"
SCALE = 4.0  # raters scored -4..4; results are reported in -1..1
# VADER's rules take quadratic time (19 s for 100 KB); training snippets stay under 900 characters.
LEXICON_CHARS = 4000
_WORD = re.compile(r"[\w']+")
_BUT = re.compile(r"\bbut\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SentimentHead:
    """Regression weights and the neutral band around zero, on the raters' scale."""

    weights: NDArray[np.float32]
    bias: float
    neutral_band: float


class LexiconFeatures:
    """VADER's scores of each text, then features of the rules VADER applies to its words."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import NEGATE, SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()
        self._negations = frozenset(NEGATE)

    def __call__(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return one row per text (its first LEXICON_CHARS): VADER's four scores, then `rules`."""
        cut = [text[:LEXICON_CHARS] for text in texts]
        return np.array([self._scores(text) + self.rules(text) for text in cut], np.float32)

    def _scores(self, text: str) -> list[float]:
        score = self._vader.polarity_scores(text)
        return [score["compound"], score["pos"], score["neg"], score["neu"]]

    def rules(self, text: str) -> list[float]:
        """Return valence counts and extremes, negation, "but" compounds, "!", "?" and length."""
        words = [word.lower() for word in _WORD.findall(self.describe_emoji(text))]
        valences = [self._vader.lexicon.get(word, 0.0) for word in words]
        positive = [value for value in valences if value > 0]
        negative = [value for value in valences if value < 0]
        negated = any(word in self._negations or word.endswith("n't") for word in words)
        parts = _BUT.split(text, maxsplit=1)
        before, after = (
            (self._scores(parts[0])[0], self._scores(parts[1])[0]) if len(parts) > 1 else (0.0, 0.0)
        )
        return [
            min(len(positive), 5) / 5, min(len(negative), 5) / 5,
            max(positive, default=0.0) / SCALE, min(negative, default=0.0) / SCALE,
            float(negated), float(len(parts) > 1), before, after,
            min(text.count("!"), 3) / 3, float("?" in text), math.log1p(len(words)) / 4,
        ]  # fmt: skip

    def describe_emoji(self, text: str) -> str:
        """Replace each emoji VADER knows by its name ("😡" -> "pouting face")."""
        if text.isascii():
            return text
        return "".join(f" {self._vader.emojis[c]} " if c in self._vader.emojis else c for c in text)


def sentiment_features(
    texts: Sequence[str], embeddings: NDArray[np.float32] | None, lexicon: LexiconFeatures
) -> sparse.csr_matrix:
    """Return the lexicon scores, then the embedding (if any), then n-grams of emoji-named texts."""
    features = combine(embeddings, ngram_features([lexicon.describe_emoji(t) for t in texts]))
    return beside(lexicon(texts), features)


class LinearSentimentAnalyzer:
    """The SentimentAnalyzer port: the embedding head when its embedder is here, else n-grams;
    each with its head for text in another language, when the model has one. `language` tells
    which texts that head reads (by default a FocusedDetector among `languages`, those the
    model learned); the assistant passes the detector its labels store the language by."""

    def __init__(
        self,
        heads: dict[str, SentimentHead],
        embedder: Embedder | None,
        language: LanguageDetector | None = None,
        languages: Sequence[str] = (ENGLISH,),
    ) -> None:
        use_embedding = embedder is not None and embedder.name in heads
        self.name = embedder.name if use_embedding and embedder else HASHING_NAME
        self._head = heads[self.name]
        self._other = heads.get(self.name + OTHER_LANGUAGES)
        if language is None and self._other is not None:
            language = FocusedDetector(languages)
        self._language = language
        self._embedder = embedder if use_embedding else None
        self._lexicon = LexiconFeatures()

    def scores(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return the predicted mean rating (-4..4) of each text."""
        return np.array([raw for raw, _ in self._read(texts)], np.float32)

    def analyze(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Label each text negative, neutral or positive, with a score in [-1, 1]."""
        return [
            SentimentResult(label_for(float(raw), band), float(np.clip(raw / SCALE, -1.0, 1.0)))
            for raw, band in self._read(texts)
        ]

    def _read(self, texts: Sequence[str]) -> list[tuple[np.float32, float]]:
        """Return each text's predicted rating and the neutral band of the head that read it."""
        if not texts:
            return []
        described = [self._lexicon.describe_emoji(text) for text in texts]
        embeddings = self._embedder.embed(described) if self._embedder is not None else None
        features = sentiment_features(texts, embeddings, self._lexicon)
        foreign = [self._in_other_language(text) for text in texts]
        heads = {False: self._head, True: self._other or self._head}
        ratings = {surely: _predict(features, heads[surely]) for surely in set(foreign)}
        return [
            (ratings[surely][index], heads[surely].neutral_band)
            for index, surely in enumerate(foreign)
        ]

    def _in_other_language(self, text: str) -> bool:
        if self._other is None or self._language is None:
            return False
        return not_english(self._language.detect(text), LANGUAGE_SURE)


def _predict(features: sparse.csr_matrix, head: SentimentHead) -> NDArray[np.float32]:
    """Return every row's rating by one head."""
    raw = sparse_dot(features, head.weights).ravel() + head.bias
    return raw.astype(np.float32)


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
    embedder: Embedder | None,
    directory: Path = MODEL_DIR,
    language: LanguageDetector | None = None,
) -> LinearSentimentAnalyzer:
    """Return the shipped sentiment model for this embedder (n-grams when it has no head),
    its other-language head reading the texts `language` tells are in another language (by
    default: a FocusedDetector among the languages the model learned)."""
    metadata = json.loads((directory / "metadata.json").read_text())
    languages = metadata.get("languages", [ENGLISH])
    return LinearSentimentAnalyzer(load_heads(directory), embedder, language, languages)
