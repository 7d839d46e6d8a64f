"""How much our own shop texts (bench/data/shop_sentiment.tsv) should count in the sentiment
heads' training: the figures SHOP_WEIGHT in nlp_build_models.py was chosen on.

`python bench/nlp_shop_weight.py [WEIGHT ...]` (default 0 1 3; 70 s on 2 cores) fits the
MiniLM head's ridge (the shipped features, the shipped ridge strength) with the shop texts at
each weight and prints, positive/negative F1 by the sign of the predicted rating (rows whose
rating is within +-0.05 of zero left out):
  - each of VADER's three corpora left out in turn (trained on the other two, the Bitext
    neutral requests and the shop texts), and their mean: does in-domain text hurt elsewhere?
  - the shop texts in five folds (trained on all the rest and four fifths of them): in-domain
    text the head has not seen. It rises with the weight by construction; the corpora keep it
    honest.
Never scores VADER's Amazon snippets, which evaluate the shipped heads.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy import sparse

from nlp_build_models import SENTIMENT_SETS, fit_ridge, sentiment_rows
from nlp_datasets import language_rows, shop_rows, vader_rows
from rapport.nlp import metrics
from rapport.nlp.embeddings import load_embedder
from rapport.nlp.sentiment import LexiconFeatures, sentiment_features

FOLDS = 5
VADER, BITEXT, SHOP = 0, 3, 4  # groups: VADER's corpora are 0, 1 and 2


def positive_negative_f1(predicted: np.ndarray, ratings: np.ndarray) -> float:
    """Mean F1 of positive and negative by the sign of the prediction, opinionated rows only."""
    rows = np.abs(ratings) > 0.05
    truth = ["positive" if rating > 0 else "negative" for rating in ratings[rows]]
    guess = ["positive" if value > 0 else "negative" for value in predicted[rows]]
    return metrics.macro_f1(truth, guess)


def main(weights: list[float]) -> None:
    """Print the figures for each weight of the shop texts."""
    rows, _ = sentiment_rows()
    # Only the English rows: the other languages' texts came later (nlp_sentiment_languages.py).
    rows = rows[: len(rows) - len(language_rows())]
    shop_count = len(shop_rows())
    sizes = [len(vader_rows(name)) for name in SENTIMENT_SETS]
    group = np.concatenate(
        [np.full(size, VADER + index) for index, size in enumerate(sizes)]
        + [np.full(len(rows) - sum(sizes) - shop_count, BITEXT), np.full(shop_count, SHOP)]
    )
    texts = [text for text, _ in rows]
    ratings = np.array([rating for _, rating in rows])
    lexicon = LexiconFeatures()
    embeddings = load_embedder(threads=2).embed([lexicon.describe_emoji(t) for t in texts])
    features = sparse.csr_matrix(sentiment_features(texts, embeddings, lexicon))
    shop = np.flatnonzero(group == SHOP)
    fold = np.random.default_rng(0).integers(0, FOLDS, len(shop))

    def predict(train: np.ndarray, test: np.ndarray, weight: float) -> np.ndarray:
        weights = np.where(group[train] == SHOP, weight, 1.0)
        regression = fit_ridge(features[train], ratings[train], weights)
        return np.asarray(regression.predict(features[test]))

    for weight in weights:
        usable = (group != SHOP) | (weight > 0)
        corpora = []
        for held in range(len(SENTIMENT_SETS)):
            test = np.flatnonzero(group == held)
            predicted = predict(np.flatnonzero(usable & (group != held)), test, weight)
            corpora.append(positive_negative_f1(predicted, ratings[test]))
        in_domain = np.empty(len(shop))
        for k in range(FOLDS):
            train = np.flatnonzero(group != SHOP)
            if weight > 0:
                train = np.concatenate([train, shop[fold != k]])
            in_domain[fold == k] = predict(train, shop[fold == k], weight)
        left_out = " / ".join(f"{value:.3f}" for value in corpora)
        print(
            f"shop weight {weight:g}: VADER corpus left out (tweets / movie / editorials) "
            f"{left_out}, mean {np.mean(corpora):.3f}; shop texts, {FOLDS} folds "
            f"{positive_negative_f1(in_domain, ratings[shop]):.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main([float(value) for value in sys.argv[1:]] or [0.0, 1.0, 3.0])
