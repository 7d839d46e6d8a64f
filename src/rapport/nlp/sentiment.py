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
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from rapport.nlp.embeddings import HASHING_NAME
from rapport.nlp.features import beside, combine, ngram_features, sparse_dot
from rapport.nlp.language import ENGLISH, LANGUAGE_SURE, FocusedDetector, not_english
from rapport.nlp.ports import (
    Embedder,
    LanguageDetector,
    LanguageResult,
    SentimentLabel,
    SentimentResult,
)

MODEL_DIR = Path(__file__).parent / "data" / "sentiment"
# The heads for text in other languages are stored under their features' name and this.
OTHER_LANGUAGES = "/other-languages"
SCALE = 4.0  # raters scored -4..4; results are reported in -1..1
# A rating this strong (a score of +-0.5) keeps its label whatever the opinion gate says: the
# support desk raises a conversation's priority from -0.5 and the assistant hands off from
# -0.6 by default, so a message strong enough for those is never labelled neutral ("Where is
# my refund? You people are useless." reads like a request to the gate, and scores -0.67).
STRONG_RATING = 2.0
# VADER's rules take quadratic time (19 s for 100 KB); training snippets stay under 900 characters.
LEXICON_CHARS = 4000
_WORD = re.compile(r"[\w']+")
_BUT = re.compile(r"\bbut\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SentimentHead:
    """Regression weights for the rating and how a rating becomes a label.

    The band: a rating within `neutral_band` of zero is neutral. With an opinion gate (a
    logistic regression over the same features: does the text carry an opinion at all?), a
    message is neutral when the gate's probability is under `opinion_threshold` and its rating
    is not strong, and otherwise takes its rating's sign (`gated_label`). A text written as an
    opinion (a survey comment, a review: `opinions`) is neutral only when both the gate and
    the band say so. A head without a gate (models built before 2026-12-07) uses the band."""

    weights: NDArray[np.float32]
    bias: float
    neutral_band: float
    opinion: NDArray[np.float32] | None = None
    opinion_bias: float = 0.0
    opinion_threshold: float = 0.0

    def label(self, rating: float, opinion: float, opinions: bool = False) -> SentimentLabel:
        """Return the label of a rating (-4..4) whose text carries an opinion at `opinion`
        (`opinions`: the text was written as one)."""
        if self.opinion is None:
            return label_for(rating, self.neutral_band)
        band = self.neutral_band if opinions else math.inf
        return gated_label(rating, opinion, self.opinion_threshold, band)


class LexiconFeatures:
    """VADER's scores of each text, then features of the rules VADER applies to its words."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import NEGATE, SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()
        self._negations = frozenset(NEGATE)

    def __call__(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return one row per text (its start, `cut`): VADER's four scores, then `rules`."""
        cut = [self.cut(text) for text in texts]
        return np.array([self._scores(text) + self.rules(text) for text in cut], np.float32)

    def cut(self, text: str) -> str:
        """Return the start of a text that VADER reads as at most LEXICON_CHARS characters: it
        reads each emoji by its name ("smiling face with hearts"), so 2,000 emoji would be
        50 KB to its quadratic rules (10 s), where 2,000 letters are 2 KB."""
        if text.isascii():
            return text[:LEXICON_CHARS]
        length = 0
        for index, character in enumerate(text):
            name = self._vader.emojis.get(character)
            length += 1 if name is None else len(name) + 2
            if length > LEXICON_CHARS:
                return text[:index]
        return text

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
    model learned); the assistant passes the detector its labels store the language by.
    `opinions`: the texts were written as opinions (survey comments, reviews), so one is
    neutral only when both the opinion gate and the band say so (`SentimentHead`); messages
    to support (the default) are neutral when the gate says they carry no opinion."""

    def __init__(
        self,
        heads: dict[str, SentimentHead],
        embedder: Embedder | None,
        language: LanguageDetector | None = None,
        languages: Sequence[str] = (ENGLISH,),
        opinions: bool = False,
    ) -> None:
        use_embedding = embedder is not None and embedder.name in heads
        self.name = embedder.name if use_embedding and embedder else HASHING_NAME
        self._head = heads[self.name]
        self._other = heads.get(self.name + OTHER_LANGUAGES)
        if language is None and self._other is not None:
            language = FocusedDetector(languages)
        self._language = language
        self._opinions = opinions
        self._embedder = embedder if use_embedding else None
        self._lexicon = LexiconFeatures()

    def scores(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return the predicted mean rating (-4..4) of each text."""
        return np.array([rating for rating, _, _ in self._read(texts, None)], np.float32)

    def analyze(
        self, texts: Sequence[str], languages: Sequence[LanguageResult] | None = None
    ) -> list[SentimentResult]:
        """Label each text negative, neutral or positive, with a score in [-1, 1]; `languages`
        (one per text) where the caller has told them already, else the analyzer's detector
        tells them."""
        return [
            SentimentResult(
                head.label(float(rating), float(opinion), self._opinions),
                float(np.clip(rating / SCALE, -1.0, 1.0)),
            )
            for rating, opinion, head in self._read(texts, languages)
        ]

    def _read(
        self, texts: Sequence[str], languages: Sequence[LanguageResult] | None
    ) -> list[tuple[np.float32, np.float32, SentimentHead]]:
        """Return each text's predicted rating, how surely it carries an opinion, and the head
        that read it."""
        if not texts:
            return []
        if languages is not None and len(languages) != len(texts):
            raise ValueError("one language a text")
        described = [self._lexicon.describe_emoji(text) for text in texts]
        embeddings = self._embedder.embed(described) if self._embedder is not None else None
        features = sentiment_features(texts, embeddings, self._lexicon)
        foreign = [
            self._in_other_language(text, languages[index] if languages is not None else None)
            for index, text in enumerate(texts)
        ]
        heads = {False: self._head, True: self._other or self._head}
        read = {surely: _predict(features, heads[surely]) for surely in set(foreign)}
        return [
            (read[surely][0][index], read[surely][1][index], heads[surely])
            for index, surely in enumerate(foreign)
        ]

    def _in_other_language(self, text: str, told: LanguageResult | None) -> bool:
        if self._other is None:
            return False
        if told is None:
            if self._language is None:
                return False
            told = self._language.detect(text)
        return not_english(told, LANGUAGE_SURE)


def _predict(
    features: sparse.csr_matrix, head: SentimentHead
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Return every row's rating by one head, and the probability that it carries an opinion
    (1 for a head without a gate)."""
    rating = sparse_dot(features, head.weights).ravel() + head.bias
    if head.opinion is None:
        return rating.astype(np.float32), np.ones(len(rating), np.float32)
    logit = sparse_dot(features, head.opinion).ravel() + head.opinion_bias
    opinion = 1.0 / (1.0 + np.exp(-np.clip(logit, -30.0, 30.0)))
    return rating.astype(np.float32), opinion.astype(np.float32)


def gated_label(
    rating: float, opinion: float, threshold: float, band: float = math.inf
) -> SentimentLabel:
    """Return the label of a rating (-4..4) by the opinion gate: neutral when the text carries
    no opinion (`opinion` under `threshold`), its rating is not strong and is within `band`
    (by default any); else the rating's sign."""
    if opinion < threshold and abs(rating) < STRONG_RATING and abs(rating) <= band:
        return "neutral"
    return label_for(rating, 0.0)


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
    arrays |= {
        f"opinion_{index}": head.opinion
        for index, head in enumerate(heads.values())
        if head.opinion is not None
    }
    np.savez_compressed(directory / "weights.npz", **arrays)  # type: ignore[arg-type]
    specs = [
        {
            "features": name,
            "bias": head.bias,
            "neutral_band": head.neutral_band,
            **(
                {"opinion_bias": head.opinion_bias, "opinion_threshold": head.opinion_threshold}
                if head.opinion is not None
                else {}
            ),
        }
        for name, head in heads.items()
    ]
    (directory / "metadata.json").write_text(json.dumps({**metadata, "heads": specs}, indent=2))


def load_heads(directory: Path = MODEL_DIR) -> dict[str, SentimentHead]:
    """Read the heads written by `save_heads`."""
    return _heads(directory, json.loads((directory / "metadata.json").read_text())["heads"])


def _heads(directory: Path, specs: list[dict[str, Any]]) -> dict[str, SentimentHead]:
    """Return the heads of a model directory, described by its metadata's `heads`."""
    with np.load(directory / "weights.npz", allow_pickle=False) as arrays:
        return {
            spec["features"]: SentimentHead(
                arrays[f"weights_{index}"].astype(np.float32),
                float(spec["bias"]),
                float(spec["neutral_band"]),
                arrays[f"opinion_{index}"].astype(np.float32)
                if f"opinion_{index}" in arrays
                else None,
                float(spec.get("opinion_bias", 0.0)),
                float(spec.get("opinion_threshold", 0.0)),
            )
            for index, spec in enumerate(specs)
        }


def load_sentiment(
    embedder: Embedder | None,
    directory: Path = MODEL_DIR,
    language: LanguageDetector | None = None,
    opinions: bool = False,
) -> LinearSentimentAnalyzer:
    """Return the shipped sentiment model for this embedder (n-grams when it has no head),
    its other-language head reading the texts `language` tells are in another language (by
    default: a FocusedDetector among the languages the model learned); `opinions` for texts
    written as opinions (LinearSentimentAnalyzer)."""
    metadata = json.loads((directory / "metadata.json").read_text())
    languages = metadata.get("languages", [ENGLISH])
    heads = _heads(directory, metadata["heads"])
    return LinearSentimentAnalyzer(heads, embedder, language, languages, opinions)
