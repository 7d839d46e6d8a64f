"""How a rating becomes a label: the neutral band around the ridge's rating (the rule until
2026-12-07) against an opinion gate (a logistic regression on the same features: does the
text carry an opinion?), the rating's sign telling the rest. The figures OPINION_C in
nlp_build_models.py was chosen on.

`python bench/nlp_sentiment_gate.py [C ...]` (default 0.3 1 3; about 5 minutes on 2 cores)
fits the English MiniLM head's rows (the shipped features and ridge) and prints, for the band
and for the gate at each strength C:
  - each of VADER's three corpora left out in turn (trained on the other two, the Bitext
    neutral requests and our shop texts), its band or threshold chosen by three folds of the
    training rows (out-of-fold macro-F1, as the build chooses it): macro-F1 over the three
    labels (truth cut at +-0.05), and positive/negative F1 over the rows that carry an opinion
    with a neutral prediction counted as an error (VADER's own reading of its F1);
  - our shop texts in five folds (trained on all the rest and four fifths of them): the same
    two figures;
  - 300 Bitext requests from the test side of the template split (none trained on): the
    share labelled neutral, as support requests should be.
Last, the rule for texts written as opinions (survey comments, reviews: neutral only when the
gate at OPINION_C and the band both say so, each setting chosen for its own rule).
Never scores VADER's Amazon snippets, which evaluate the shipped heads.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.model_selection import KFold

from nlp_build_models import (
    BANDS,
    OPINION_C,
    OPINION_THRESHOLDS,
    SENTIMENT_SETS,
    fit_opinion,
    fit_ridge,
    gated_labels,
    sentiment_rows,
)
from nlp_datasets import (
    bitext_8k,
    bitext_neutral,
    language_rows,
    sentiment_label,
    shop_rows,
    split_by_template,
    vader_rows,
)
from rapport.nlp import metrics
from rapport.nlp.embeddings import load_embedder
from rapport.nlp.sentiment import LexiconFeatures, gated_label, label_for, sentiment_features

FOLDS = 5
BITEXT, SHOP = 3, 4  # groups: VADER's corpora are 0, 1 and 2
# A rule fitted on training rows: (features, ratings, weights) -> labeller(features, setting).
Labeller = Callable[[sparse.csr_matrix, Any], list[str]]


def band_rule(features: sparse.csr_matrix, ratings: np.ndarray, weights: np.ndarray) -> Labeller:
    """The band around the ridge's rating."""
    regression = fit_ridge(features, ratings, weights)
    return lambda rows, band: [label_for(float(v), band) for v in regression.predict(rows)]


def gate_rule(strength: float) -> Callable[..., Labeller]:
    """The opinion gate of this strength, the ridge's sign telling the rest."""

    def fit(features: sparse.csr_matrix, ratings: np.ndarray, weights: np.ndarray) -> Labeller:
        regression = fit_ridge(features, ratings, weights)
        gate = fit_opinion(features, ratings, weights, strength)
        return lambda rows, threshold: gated_labels(
            regression.predict(rows), gate.predict_proba(rows)[:, 1], threshold
        )

    return fit


def opinions_rule(strength: float) -> Callable[..., Labeller]:
    """Texts written as opinions (survey comments, reviews): neutral only when the gate and the
    band both say so; the setting is the pair (band, threshold), each chosen for its own rule."""

    def fit(features: sparse.csr_matrix, ratings: np.ndarray, weights: np.ndarray) -> Labeller:
        regression = fit_ridge(features, ratings, weights)
        gate = fit_opinion(features, ratings, weights, strength)

        def labeller(rows: sparse.csr_matrix, setting: tuple[float, float]) -> list[str]:
            band, threshold = setting
            opinion = gate.predict_proba(rows)[:, 1]
            return [
                gated_label(float(rating), float(sure), threshold, band)
                for rating, sure in zip(regression.predict(rows), opinion, strict=True)
            ]

        return labeller

    return fit


def choose(rule: Callable[..., Labeller], settings: np.ndarray, features: sparse.csr_matrix,
           ratings: np.ndarray, weights: np.ndarray) -> float:  # fmt: skip
    """The setting with the best out-of-fold macro-F1 over three folds of these rows."""
    truth = [sentiment_label(rating) for rating in ratings]
    fitted = [
        (test, rule(features[train], ratings[train], weights[train]))
        for train, test in KFold(3, shuffle=True, random_state=0).split(ratings)
    ]
    scores = []
    for setting in settings:
        labels: list[str] = [""] * len(ratings)
        for test, labeller in fitted:
            for index, label in zip(test, labeller(features[test], setting), strict=True):
                labels[index] = label
        scores.append(metrics.macro_f1(truth, labels))
    return float(settings[int(np.argmax(scores))])


def figures(labels: list[str], ratings: np.ndarray) -> tuple[float, float]:
    """Macro-F1 over the three labels, and positive/negative F1 over the opinionated rows (a
    neutral prediction there is an error)."""
    truth = [sentiment_label(rating) for rating in ratings]
    opinionated = [i for i, label in enumerate(truth) if label != "neutral"]
    return metrics.macro_f1(truth, labels), metrics.macro_f1(
        [truth[i] for i in opinionated], [labels[i] for i in opinionated]
    )


def main(strengths: list[float]) -> None:
    """Print the band's and each gate's figures."""
    rows, weights = sentiment_rows()
    english = len(rows) - len(language_rows())
    rows, weights = rows[:english], weights[:english]
    shop_count = len(shop_rows())
    sizes = [len(vader_rows(name)) for name in SENTIMENT_SETS]
    group = np.concatenate(
        [np.full(size, index) for index, size in enumerate(sizes)]
        + [np.full(len(rows) - sum(sizes) - shop_count, BITEXT), np.full(shop_count, SHOP)]
    )
    texts = [text for text, _ in rows]
    ratings = np.array([rating for _, rating in rows])
    lexicon = LexiconFeatures()
    embedder = load_embedder(threads=2)

    def featurize(chosen: list[str]) -> sparse.csr_matrix:
        vectors = embedder.embed([lexicon.describe_emoji(text) for text in chosen])
        return sparse.csr_matrix(sentiment_features(chosen, vectors, lexicon))

    features = featurize(texts)
    _, held_out = split_by_template(bitext_8k())
    requests = featurize(bitext_neutral(held_out, 300, seed=1))
    shop = np.flatnonzero(group == SHOP)
    fold = np.random.default_rng(0).integers(0, FOLDS, len(shop))
    rules: list[tuple[str, Callable[..., Labeller], np.ndarray]] = [
        ("band (until 2026-12-07)", band_rule, BANDS)
    ] + [(f"opinion gate, C={strength:g}", gate_rule(strength), OPINION_THRESHOLDS)
         for strength in strengths] + [
        (f"written as opinions: gate C={OPINION_C:g} and band", opinions_rule(OPINION_C),
         np.array([]))
    ]  # fmt: skip

    def fit_and_label(rule: Callable[..., Labeller], settings: np.ndarray, train: np.ndarray,
                      tests: list[sparse.csr_matrix]) -> tuple[Any, list[list[str]]]:  # fmt: skip
        chosen = features[train], ratings[train], weights[train]
        setting: Any
        if len(settings):
            setting = choose(rule, settings, *chosen)
        else:  # the opinions rule: the band and the gate's threshold, each as built
            gate = gate_rule(OPINION_C)
            setting = choose(band_rule, BANDS, *chosen), choose(gate, OPINION_THRESHOLDS, *chosen)
        labeller = rule(*chosen)
        return setting, [labeller(test, setting) for test in tests]

    for name, rule, settings in rules:
        started = time.perf_counter()
        corpora = []
        for held in range(len(SENTIMENT_SETS)):
            test = np.flatnonzero(group == held)
            setting, [labels] = fit_and_label(
                rule, settings, np.flatnonzero(group != held), [features[test]]
            )
            corpora.append((setting, *figures(labels, ratings[test])))
        in_domain: list[str] = [""] * len(shop)
        for k in range(FOLDS):
            train = np.concatenate([np.flatnonzero(group != SHOP), shop[fold != k]])
            _, [labels] = fit_and_label(rule, settings, train, [features[shop[fold == k]]])
            for index, label in zip(np.flatnonzero(fold == k), labels, strict=True):
                in_domain[index] = label
        setting, [labels] = fit_and_label(rule, settings, np.arange(len(rows)), [requests])
        left_out = ", ".join(f"{macro:.3f} / {binary:.3f}" for _, macro, binary in corpora)
        shop_macro, shop_binary = figures(in_domain, ratings[shop])
        print(
            f"{name}: VADER corpus left out (tweets, movie, editorials; macro-F1 / pos-neg "
            f"F1) {left_out}; mean {np.mean([c[1] for c in corpora]):.3f} / "
            f"{np.mean([c[2] for c in corpora]):.3f} (settings "
            f"{', '.join(str(np.round(c[0], 2)) for c in corpora)}); shop texts, {FOLDS} "
            f"folds {shop_macro:.3f} / {shop_binary:.3f}; held-out Bitext requests neutral "
            f"{labels.count('neutral') / len(labels):.0%} (setting {np.round(setting, 2)}); "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main([float(value) for value in sys.argv[1:]] or [0.3, 1.0, 3.0])
