"""Sentiment in French, German and Spanish: what our own texts in those languages
(bench/data/shop_sentiment_multilingual.tsv) do to the sentiment heads.

`python bench/nlp_sentiment_languages.py check [WEIGHT ...]` (default 0 3; about 2 min on 2
cores) fits the MiniLM head's ridge (the shipped features and strength) with those texts at
each weight and prints positive/negative F1 by the sign of the predicted rating (rows within
+-0.05 of zero left out):
  - each of VADER's three corpora left out in turn, and their mean, and our English shop texts
    in five folds: do the other languages cost English anything?
  - the French, German and Spanish texts in five folds: text in those languages the head has
    not seen (it rises with the weight by construction).
`python bench/nlp_sentiment_languages.py evaluate [MODEL_DIR]` scores a model's heads (the
shipped ones by default) on the held-out texts (bench/data/shop_sentiment_multilingual_test
.csv, written apart from the training texts): accuracy and macro-F1 over the three labels,
overall, per language and without the texts the training file also has (2 short ones),
with VADER's rule on the same rows. Never trains on them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
from scipy import sparse

from nlp_build_models import SENTIMENT_SETS, SHOP_WEIGHT, fit_ridge, sentiment_rows
from nlp_datasets import language_rows, languages_test, shop_rows, vader_rows
from nlp_shop_weight import FOLDS, positive_negative_f1
from rapport.nlp import metrics
from rapport.nlp.embeddings import load_embedder
from rapport.nlp.sentiment import (
    MODEL_DIR,
    LexiconFeatures,
    label_for,
    load_sentiment,
    sentiment_features,
)

SHOP, LANGUAGES = 4, 5  # groups: VADER's corpora are 0, 1 and 2, Bitext's requests 3


def check(weights: list[float]) -> None:
    """Print the figures for each weight of the French, German and Spanish texts."""
    rows, _ = sentiment_rows()
    sizes = [len(vader_rows(name)) for name in SENTIMENT_SETS]
    shop_count, language_count = len(shop_rows()), len(language_rows())
    bitext_count = len(rows) - sum(sizes) - shop_count - language_count
    group = np.concatenate(
        [np.full(size, index) for index, size in enumerate(sizes)]
        + [np.full(bitext_count, 3), np.full(shop_count, SHOP), np.full(language_count, LANGUAGES)]
    )
    texts = [text for text, _ in rows]
    ratings = np.array([rating for _, rating in rows])
    lexicon = LexiconFeatures()
    embeddings = load_embedder(threads=2).embed([lexicon.describe_emoji(t) for t in texts])
    features = sparse.csr_matrix(sentiment_features(texts, embeddings, lexicon))
    rng = np.random.default_rng(0)
    shop, languages = np.flatnonzero(group == SHOP), np.flatnonzero(group == LANGUAGES)
    shop_fold, language_fold = (
        rng.integers(0, FOLDS, len(shop)),
        rng.integers(0, FOLDS, len(languages)),
    )

    def predict(train: np.ndarray, test: np.ndarray, weight: float) -> np.ndarray:
        train = train[(group[train] != LANGUAGES) | (weight > 0)]
        counted = np.select(
            [group[train] == SHOP, group[train] == LANGUAGES], [SHOP_WEIGHT, weight], default=1.0
        )
        regression = fit_ridge(features[train], ratings[train], counted)
        return np.asarray(regression.predict(features[test]))

    def folds(members: np.ndarray, fold: np.ndarray, weight: float) -> float:
        predicted = np.empty(len(members))
        for k in range(FOLDS):
            train = np.setdiff1d(np.arange(len(rows)), members[fold == k])
            predicted[fold == k] = predict(train, members[fold == k], weight)
        return positive_negative_f1(predicted, ratings[members])

    everything = np.arange(len(rows))
    for weight in weights:
        corpora = [
            positive_negative_f1(
                predict(everything[group != held], np.flatnonzero(group == held), weight),
                ratings[group == held],
            )
            for held in range(len(SENTIMENT_SETS))
        ]
        left_out = " / ".join(f"{value:.3f}" for value in corpora)
        print(
            f"other languages' weight {weight:g}: VADER corpus left out (tweets / movie / "
            f"editorials) {left_out}, mean {np.mean(corpora):.3f}; English shop texts, "
            f"{FOLDS} folds {folds(shop, shop_fold, weight):.3f}; French, German and Spanish "
            f"texts, {FOLDS} folds {folds(languages, language_fold, weight):.3f}",
            flush=True,
        )


def evaluate(directory: Path) -> None:
    """Print the heads' figures on the held-out texts, overall and per language."""
    rows = languages_test()
    analyzer = load_sentiment(load_embedder(threads=2), directory)
    predicted = [result.label for result in analyzer.analyze([text for text, _, _ in rows])]
    vader = [label_for(float(row[0]), 0.05) for row in LexiconFeatures()([t for t, _, _ in rows])]
    print(f"model {directory} ({analyzer.name}), {len(rows)} held-out texts")
    trained = {_plain(text) for text, _, _ in language_rows()}
    unseen = {i for i, (text, _, _) in enumerate(rows) if _plain(text) not in trained}
    for language in ("all", "fr", "de", "es", "unseen"):
        chosen = [
            i
            for i, row in enumerate(rows)
            if language in ("all", row[2]) or (language == "unseen" and i in unseen)
        ]
        truth = [rows[i][1] for i in chosen]
        ours, rule = [predicted[i] for i in chosen], [vader[i] for i in chosen]
        print(
            f"  {language}: {len(chosen)} rows, accuracy {metrics.accuracy(truth, ours):.3f}, "
            f"macro-F1 {metrics.macro_f1(truth, ours):.3f} (VADER's rule "
            f"{metrics.accuracy(truth, rule):.3f} / {metrics.macro_f1(truth, rule):.3f})",
            flush=True,
        )


def _plain(text: str) -> str:
    """The text lowered, with punctuation and emoji dropped (to find the same text twice)."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


if __name__ == "__main__":
    if sys.argv[1] == "check":
        check([float(value) for value in sys.argv[2:]] or [0.0, 3.0])
    else:
        evaluate(Path(sys.argv[2]) if len(sys.argv) > 2 else MODEL_DIR)
