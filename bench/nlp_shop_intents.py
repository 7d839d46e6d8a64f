"""How the shipped intent model reads real customers' phrasing, and what our own written shop
messages (bench/data/shop_intents_train.tsv) change.

    python bench/nlp_shop_intents.py choose    # 5 folds of the shop training messages
    python bench/nlp_shop_intents.py evaluate [MODEL_DIR]  # the held-out shop messages

`choose` trains on every Bitext row plus four fifths of our training messages (each counted
WEIGHTS times, with their out_of_scope rows as the out-of-scope class) and reads the fifth
left out, for every weight; the weight 0 row is Bitext alone, as the shipped model is built.
It prints, per weight and threshold, the pooled out-of-fold in-scope accuracy (a rejection
counts as a miss), out-of-scope recall and their mean, the figure the threshold maximises.
`evaluate` scores the model shipped in src/rapport/nlp/data/intents (and another model
directory, if given: the one shipped before) on `shop_intents_test.tsv`, which no choice
reads, each head at its own threshold. Embeddings are computed once per text and kept in /tmp.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlp_datasets import SHOP_INTENTS_TEST, SHOP_INTENTS_TRAIN, bitext_all, shop_intents
from rapport.nlp import intents, metrics
from rapport.nlp.embeddings import HASHING_NAME, load_embedder
from rapport.nlp.intents import OUT_OF_SCOPE, IntentModel, LinearIntentClassifier, decide
from rapport.nlp.ports import Embedder, Vectors
from rapport.nlp.training import REJECTED_IN_SCOPE, train_intents

MODEL_DIR = Path(__file__).resolve().parents[1] / "src" / "rapport" / "nlp" / "data" / "intents"
CACHE = Path("/tmp/rapport-shop-intents-embeddings.npz")
WEIGHTS = (0, 1, 3, 10)
FOLDS = 5
THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)


class CachedEmbedder:
    """The real embedder, each text embedded once and kept on disk between runs."""

    def __init__(self) -> None:
        self.inner = load_embedder(threads=2)
        self.vectors: dict[str, np.ndarray] = {}
        if CACHE.exists():
            stored = np.load(CACHE, allow_pickle=False)
            if str(stored["model"]) == self.inner.name:
                self.vectors = dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        missing = [text for text in dict.fromkeys(texts) if text not in self.vectors]
        for start in range(0, len(missing), 256):
            chunk = missing[start : start + 256]
            self.vectors.update(zip(chunk, self.inner.embed(chunk), strict=True))
        return np.vstack([self.vectors[text] for text in texts]).astype(np.float32)

    def save(self) -> None:
        texts = list(self.vectors)
        np.savez(CACHE, model=self.name, texts=np.array(texts), vectors=np.vstack(
            [self.vectors[text] for text in texts]))  # fmt: skip


def folds(labels: Sequence[str]) -> list[int]:
    """Assign each row a fold, stratified by label (seeded)."""
    rng = np.random.default_rng(0)
    assigned = [0] * len(labels)
    for label in sorted(set(labels)):
        indices = [i for i, found in enumerate(labels) if found == label]
        rng.shuffle(indices)
        for position, index in enumerate(indices):
            assigned[index] = position % FOLDS
    return assigned


def train(
    bitext: list[tuple[str, str]], shop: list[tuple[str, str]], weight: int, embedder: Embedder
) -> IntentModel:
    rows = bitext + shop * weight
    texts, labels = [text for text, _ in rows], [label for _, label in rows]
    if weight == 0:  # the shipped recipe: no out-of-scope class, reject 2 % of in-scope
        return train_intents(texts, labels, embedder, None, None, REJECTED_IN_SCOPE)
    return train_intents(texts, labels, embedder, OUT_OF_SCOPE)


def scores(
    model: IntentModel, probabilities: np.ndarray, truth: Sequence[str], threshold: float
) -> tuple[float, float, float]:
    """Return in-scope accuracy (a rejection is a miss), out-of-scope recall, their mean."""
    predicted = [p.label for p in decide(model, probabilities, threshold)]
    predicted = [OUT_OF_SCOPE if label == model.oos_label else label for label in predicted]
    inside = [p == t for p, t in zip(predicted, truth, strict=True) if t != OUT_OF_SCOPE]
    outside = [p == t for p, t in zip(predicted, truth, strict=True) if t == OUT_OF_SCOPE]
    accuracy, recall = float(np.mean(inside)), float(np.mean(outside)) if outside else 0.0
    return accuracy, recall, (accuracy + recall) / 2


def probabilities_of(model: IntentModel, embedder: Embedder | None, texts: list[str]) -> np.ndarray:
    classifier = LinearIntentClassifier(model, embedder)
    return classifier.probabilities(texts)


def choose() -> None:
    embedder = CachedEmbedder()
    bitext, shop = bitext_all(), shop_intents(SHOP_INTENTS_TRAIN)
    fold_of = folds([label for _, label in shop])
    print(f"bitext rows {len(bitext)}, shop training rows {len(shop)}, {FOLDS} folds")
    for weight in WEIGHTS:
        pooled: dict[str, list[np.ndarray]] = {"minilm": [], "ngrams": []}
        truth: list[str] = []
        models = []
        started = time.perf_counter()
        for fold in range(FOLDS):
            kept = [row for row, f in zip(shop, fold_of, strict=True) if f != fold]
            held = [row for row, f in zip(shop, fold_of, strict=True) if f == fold]
            model = train(bitext, kept, weight, embedder)
            embedder.save()
            texts = [text for text, _ in held]
            # Columns in one order for every fold (each fold's model has the same labels).
            assert not models or model.labels == models[0].labels
            for head, with_embedder in (("minilm", embedder), ("ngrams", None)):
                pooled[head].append(probabilities_of(model, with_embedder, texts))
            truth += [label for _, label in held]
            models.append(model)
        seconds = time.perf_counter() - started
        print(f"\nweight {weight} ({seconds:.0f} s for {FOLDS} folds)")
        for head in ("minilm", "ngrams"):
            stacked = np.vstack(pooled[head])
            name = embedder.name if head == "minilm" else HASHING_NAME
            trained = [round(m.heads[name].threshold, 4) for m in models]
            print(f"  {head} head, training's own thresholds {trained}")
            print("  threshold  in-scope acc  oos recall  mean")
            for threshold in THRESHOLDS:
                accuracy, recall, mean = scores(models[0], stacked, truth, threshold)
                print(f"  {threshold:9.2f}  {accuracy:12.4f}  {recall:10.4f}  {mean:.4f}")


def evaluate() -> None:
    embedder = CachedEmbedder()
    test = shop_intents(SHOP_INTENTS_TEST)
    # Short messages ("cancellation fee?") were written by both writers: scored apart too.
    trained = {normalised(text) for text, _ in shop_intents(SHOP_INTENTS_TRAIN)}
    unseen = [(text, label) for text, label in test if normalised(text) not in trained]
    for rows, name in ((test, "all"), (unseen, "not in the training file")):
        print(f"-- {len(rows)} held-out messages, {name}")
        score(rows, embedder)


def normalised(text: str) -> str:
    """Lower case, punctuation as spaces, single spaces."""
    return " ".join("".join(c if c.isalnum() or c == "'" else " " for c in text.lower()).split())


def score(test: list[tuple[str, str]], embedder: CachedEmbedder) -> None:
    texts, truth = [text for text, _ in test], [label for _, label in test]
    candidates = {"shipped": intents.load(MODEL_DIR)}
    if len(sys.argv) > 2:  # a model directory to compare with: the one shipped before, say
        candidates[sys.argv[2]] = intents.load(Path(sys.argv[2]))
    for name, model in candidates.items():
        for head, with_embedder in (("minilm", embedder), ("ngrams", None)):
            classifier = LinearIntentClassifier(model, with_embedder)
            found = classifier.probabilities(texts)
            threshold = classifier.head.threshold
            accuracy, recall, mean = scores(model, found, truth, threshold)
            predicted = [p.label for p in decide(model, found, threshold)]
            predicted = [OUT_OF_SCOPE if p == model.oos_label else p for p in predicted]
            report = metrics.intent_report(truth, predicted, OUT_OF_SCOPE)
            print(
                f"{name:24} {head:6} threshold {threshold:.4f}: in-scope accuracy {accuracy:.4f}"
                f", oos recall {recall:.4f}, mean {mean:.4f}; accuracy {report['accuracy']:.4f}"
                f", macro-F1 {report['macro_f1']:.4f}, oos precision "
                f"{report.get('oos_precision', 0.0):.4f}"
            )


if __name__ == "__main__":
    {"choose": choose, "evaluate": evaluate}[sys.argv[1]]()
