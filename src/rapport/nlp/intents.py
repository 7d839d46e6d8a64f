"""Intent classification: a calibrated linear head over MiniLM + n-gram features, with
out-of-scope detection; an n-gram-only head keeps working when the embedding model is absent."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from rapport.nlp.embeddings import HASHING_NAME
from rapport.nlp.features import (
    Progress,
    combine,
    embed_with_progress,
    ngram_features,
    sparse_dot,
)
from rapport.nlp.language import ENGLISH
from rapport.nlp.ports import Embedder, IntentPrediction

DEFAULT_MODEL_DIR = Path(__file__).parent / "data" / "intents"
FORMAT_VERSION = 1
OUT_OF_SCOPE = "out_of_scope"
DEFAULT_THRESHOLD = 0.3
REGULARIZATION = 30.0
# Below these sizes a held-out split costs more than it tells: calibration keeps its defaults.
MIN_HELD_OUT_EXAMPLES = 200
MIN_EXAMPLES_PER_LABEL = 5
HELD_OUT_FRACTION = 0.15
Matrix = NDArray[np.float32]


@dataclass(slots=True)
class Head:
    """A softmax layer with its temperature and out-of-scope threshold."""

    weights: Matrix
    bias: Matrix
    temperature: float = 1.0
    threshold: float = DEFAULT_THRESHOLD

    def probabilities(self, features: sparse.csr_matrix) -> Matrix:
        """Return calibrated class probabilities, one row per text."""
        logits = sparse_dot(features, self.weights) + self.bias
        return softmax((logits / self.temperature).astype(np.float32))


@dataclass(slots=True)
class IntentModel:
    """Labels and heads keyed by the features they read ("<embedder>" or hashing n-grams)."""

    labels: list[str]
    oos_label: str | None
    heads: dict[str, Head]
    metadata: dict[str, Any] = field(default_factory=dict)

    def head_for(self, embedder: Embedder | None) -> tuple[str, Head]:
        """Pick the embedding head if this embedder trained one, else the n-gram head."""
        if embedder is not None and embedder.name in self.heads:
            return embedder.name, self.heads[embedder.name]
        return HASHING_NAME, self.heads[HASHING_NAME]


def softmax(logits: Matrix) -> Matrix:
    """Row-wise softmax."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities: Matrix = (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)
    return probabilities


class LinearIntentClassifier:
    """The IntentClassifier port over a trained IntentModel."""

    def __init__(self, model: IntentModel, embedder: Embedder | None) -> None:
        self.model = model
        self.feature_name, self.head = model.head_for(embedder)
        self._embedder = embedder if self.feature_name != HASHING_NAME else None

    @property
    def labels(self) -> list[str]:
        """Return the in-scope labels."""
        return [label for label in self.model.labels if label != self.model.oos_label]

    @property
    def languages(self) -> tuple[str, ...]:
        """Return the languages its training data was in (metadata `languages`; a model that
        does not say was trained on English)."""
        return tuple(self.model.metadata.get("languages") or (ENGLISH,))

    def probabilities(self, texts: Sequence[str], embeddings: Matrix | None = None) -> Matrix:
        """Return calibrated probabilities over the model's labels (`embeddings`: the texts'
        vectors from this classifier's embedder, when the caller has them already)."""
        if self._embedder is None:
            embeddings = None
        elif embeddings is None:
            embeddings = self._embedder.embed(texts)
        elif len(embeddings) != len(texts):
            raise ValueError(f"{len(embeddings)} embeddings for {len(texts)} texts")
        return self.head.probabilities(combine(embeddings, ngram_features(texts)))

    def predict(
        self,
        texts: Sequence[str],
        threshold: float | None = None,
        embeddings: Matrix | None = None,
    ) -> list[IntentPrediction]:
        """Predict each text's intent; below the threshold (or the OOS class) is out of scope."""
        if not texts:
            return []
        probabilities = self.probabilities(texts, embeddings)
        return decide(self.model, probabilities, self._threshold(threshold))

    def _threshold(self, threshold: float | None) -> float:
        return self.head.threshold if threshold is None else threshold


def decide(model: IntentModel, probabilities: Matrix, threshold: float) -> list[IntentPrediction]:
    """Turn probabilities into predictions at a confidence threshold."""
    out_label = model.oos_label or OUT_OF_SCOPE
    predictions = []
    for row in probabilities:
        best = int(row.argmax())
        label, confidence = model.labels[best], float(row[best])
        out = label == model.oos_label or confidence < threshold
        predictions.append(IntentPrediction(out_label if out else label, confidence, out))
    return predictions


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    """Return the sha256 of the training rows, in order."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def save(model: IntentModel, directory: Path) -> None:
    """Write weights.npz (no pickle) and metadata.json into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Matrix] = {}
    for index, head in enumerate(model.heads.values()):
        arrays[f"weights_{index}"] = head.weights.astype(np.float16)  # halves the file
        arrays[f"bias_{index}"] = head.bias
    np.savez_compressed(directory / "weights.npz", **arrays)  # type: ignore[arg-type]
    heads = [
        {"features": name, "temperature": head.temperature, "threshold": head.threshold}
        for name, head in model.heads.items()
    ]
    metadata = {**model.metadata, "format": FORMAT_VERSION, "labels": model.labels}
    metadata.update({"oos_label": model.oos_label, "heads": heads})
    (directory / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")


def load(directory: Path) -> IntentModel:
    """Read a model directory written by `save`."""
    metadata = json.loads((directory / "metadata.json").read_text())
    if metadata.get("format") != FORMAT_VERSION:
        raise ValueError(f"unsupported intent model format in {directory}")
    with np.load(directory / "weights.npz", allow_pickle=False) as arrays:
        heads = {
            spec["features"]: Head(
                arrays[f"weights_{index}"].astype(np.float32),
                arrays[f"bias_{index}"].astype(np.float32),
                float(spec["temperature"]),
                float(spec["threshold"]),
            )
            for index, spec in enumerate(metadata["heads"])
        }
    return IntentModel(metadata["labels"], metadata["oos_label"], heads, metadata)


@functools.cache
def default_labels() -> frozenset[str]:
    """Return the shipped model's labels, out of scope included (its metadata alone)."""
    metadata = json.loads((DEFAULT_MODEL_DIR / "metadata.json").read_text())
    return frozenset([*metadata["labels"], metadata["oos_label"] or OUT_OF_SCOPE, OUT_OF_SCOPE])


def default_classifier(embedder: Embedder | None) -> LinearIntentClassifier:
    """Return the shipped e-commerce intent model (27 Bitext intents) for this embedder."""
    return LinearIntentClassifier(load(DEFAULT_MODEL_DIR), embedder)


def embeddings_for(
    embedder: Embedder | None, texts: Sequence[str], progress: Progress | None
) -> Matrix | None:
    """Embed texts with a real embedder; the hashing fallback adds nothing to the n-grams."""
    if embedder is None or embedder.name == HASHING_NAME:
        return None
    return embed_with_progress(embedder, texts, progress)
