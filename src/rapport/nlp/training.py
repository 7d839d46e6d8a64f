"""Train an intent model from labelled examples: fit, calibrate, pick the OOS threshold."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse

from rapport.nlp import metrics
from rapport.nlp.embeddings import HASHING_NAME
from rapport.nlp.features import Progress, combine, ngram_features
from rapport.nlp.intents import (
    DEFAULT_THRESHOLD,
    HELD_OUT_FRACTION,
    MIN_EXAMPLES_PER_LABEL,
    MIN_HELD_OUT_EXAMPLES,
    REGULARIZATION,
    Head,
    IntentModel,
    Matrix,
    data_hash,
    decide,
    embeddings_for,
)
from rapport.nlp.ports import Embedder

TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(4.0), 41))
# Share of held-out in-scope rows a model trained for out-of-scope detection rejects.
REJECTED_IN_SCOPE = 0.02


def fit_head(features: sparse.csr_matrix, targets: Matrix, classes: int) -> Head:
    """Fit a multinomial logistic regression and return it as a Head.

    It is fitted on the columns the training rows use: a hashed n-gram no row has gets no
    gradient, so under the L2 penalty its weights stay exactly zero, and leaving it out of the
    optimiser's vectors gives the same weights. Most of the hashing space is such columns (a
    quarter of it used by 10,000 short texts), and L-BFGS's own work grows with every weight."""
    from sklearn.linear_model import LogisticRegression

    features = sparse.csr_matrix(features)
    used = np.unique(features.indices) if features.nnz else np.arange(1)  # blank texts: a bias
    classifier = LogisticRegression(C=REGULARIZATION, max_iter=300)
    classifier.fit(features[:, used], targets)
    weights = np.zeros((features.shape[1], classes), dtype=np.float32)
    bias = np.full(classes, -1e4, dtype=np.float32)  # a label absent from training never wins
    for column, label in enumerate(classifier.classes_):
        if len(classifier.classes_) == 2:  # sklearn keeps one row for two classes
            sign = 1.0 if column == 1 else -1.0
            weights[used, label] = sign * classifier.coef_[0] / 2
            bias[label] = sign * classifier.intercept_[0] / 2
        else:
            weights[used, label] = classifier.coef_[column]
            bias[label] = classifier.intercept_[column]
    return Head(weights, bias)


def calibrate(head: Head, features: sparse.csr_matrix, targets: Matrix) -> None:
    """Set the temperature that minimises held-out log loss."""
    logits = np.asarray(features @ head.weights) + head.bias
    best, best_loss = 1.0, np.inf
    for temperature in TEMPERATURES:
        scaled = logits / temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        loss = -float(log_probs[np.arange(len(targets)), targets].mean())
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    head.temperature = best


def choose_threshold(
    model: IntentModel,
    head: Head,
    probabilities: Matrix,
    truth: list[str],
    rejected_in_scope: float | None = None,
) -> None:
    """Reject a share of the least confident held-out in-scope rows.

    Out-of-scope examples in training are learnt as a class, so they are no guide to messages
    unlike any of them; a quantile of in-scope confidence is. The share is REJECTED_IN_SCOPE for
    a model with an out-of-scope label, else 0 (capped by DEFAULT_THRESHOLD), unless given.
    """
    best = probabilities.max(axis=1)
    in_scope = [c for c, label in zip(best, truth, strict=True) if label != model.oos_label]
    if rejected_in_scope is None and model.oos_label is None:
        head.threshold = min(DEFAULT_THRESHOLD, float(min(in_scope, default=0.0)))
        return
    share = REJECTED_IN_SCOPE if rejected_in_scope is None else rejected_in_scope
    head.threshold = float(np.quantile(in_scope, share)) if in_scope else 0.0


def held_out_split(labels: Sequence[str], seed: int = 0) -> tuple[list[int], list[int]]:
    """Split row indices per label (stratified); no held-out rows for small data."""
    counts = Counter(labels)
    if len(labels) < MIN_HELD_OUT_EXAMPLES or min(counts.values()) < MIN_EXAMPLES_PER_LABEL:
        return list(range(len(labels))), []
    generator = np.random.default_rng(seed)
    train, held_out = [], []
    for label in sorted(counts):
        rows = [index for index, value in enumerate(labels) if value == label]
        generator.shuffle(rows)
        cut = max(1, round(len(rows) * HELD_OUT_FRACTION))
        held_out += rows[:cut]
        train += rows[cut:]
    return sorted(train), sorted(held_out)


def train_intents(
    texts: Sequence[str],
    labels: Sequence[str],
    embedder: Embedder | None,
    oos_label: str | None = None,
    progress: Progress | None = None,
    rejected_in_scope: float | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> IntentModel:
    """Train an embedding head (if a real embedder is given) and an n-gram fallback head.
    `thresholds` (by head: the embedder's name, HASHING_NAME) replace the rule's choice."""
    if len(set(labels)) < 2:
        raise ValueError("intent training needs at least two labels")
    names = sorted(set(labels))
    # An out-of-scope label no row has still names the rejections: the model then has no
    # out-of-scope class and rejects by its threshold alone (CLINC150's "oos-threshold").
    model = IntentModel(names, oos_label, {})
    targets = np.array([names.index(label) for label in labels])
    ngrams = ngram_features(texts)
    embeddings = embeddings_for(embedder, texts, progress)
    feature_sets = {HASHING_NAME: ngrams}
    if embeddings is not None and embedder is not None:
        feature_sets = {embedder.name: combine(embeddings, ngrams), **feature_sets}
    train, held_out = held_out_split(labels)
    head_metrics = {}
    # The heads are fitted side by side: much of a fit is numpy and scipy products, which let
    # go of Python's lock (CLINC150's two heads: 94 s one after the other, 73 s together).
    with ThreadPoolExecutor(len(feature_sets)) as pool:
        fits = {
            name: pool.submit(fit_head, features[train], targets[train], len(names))
            for name, features in feature_sets.items()
        }
        heads = {}
        for step, (name, fit) in enumerate(fits.items()):
            if progress is not None:
                progress("Training heads", step, len(fits))
            heads[name] = fit.result()
    for name, features in feature_sets.items():
        head = heads[name]
        if held_out:
            calibrate(head, features[held_out], targets[held_out])
            probabilities = head.probabilities(features[held_out])
            truth = [labels[index] for index in held_out]
            choose_threshold(model, head, probabilities, truth, rejected_in_scope)
            if thresholds is not None:
                head.threshold = thresholds[name]
            predicted = [p.label for p in decide(model, probabilities, head.threshold)]
            head_metrics[name] = metrics.intent_report(truth, predicted, model.oos_label)
        model.heads[name] = head
    if progress is not None:
        progress("Trained", len(feature_sets), len(feature_sets))
    model.metadata = {
        "version": dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S"),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data_sha256": data_hash(texts, labels),
        "examples": len(texts),
        "held_out_examples": len(held_out),
        "metrics": head_metrics,
    }
    return model
