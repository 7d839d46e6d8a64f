"""Intent models: training, out-of-scope detection, saving, and the n-gram fallback head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rapport.nlp import intents
from rapport.nlp.embeddings import HASHING_NAME, MINILM_NAME
from rapport.nlp.features import ngram_features
from rapport.nlp.intents import REGULARIZATION
from rapport.nlp.ports import Embedder
from rapport.nlp.training import choose_threshold, fit_head, train_intents
from tests.nlp.conftest import intent_rows

QUERIES = ["where is my parcel?", "please cancel the order", "I forgot my password"]
EXPECTED = ["track_order", "cancel_order", "recover_password"]


@pytest.fixture(scope="module")
def model(minilm: Embedder) -> intents.IntentModel:
    rows = intent_rows(with_out_of_scope=True)
    return train_intents([t for t, _ in rows], [label for _, label in rows], minilm, "oos")


def test_trained_model_has_both_heads_and_metadata(model: intents.IntentModel) -> None:
    assert sorted(model.heads) == sorted([MINILM_NAME, HASHING_NAME])
    assert model.labels == ["cancel_order", "get_refund", "oos", "recover_password", "track_order"]
    assert model.oos_label == "oos"
    assert model.metadata["examples"] == 40
    assert len(str(model.metadata["data_sha256"])) == 64


def test_minilm_head_predicts_unambiguous_intents(
    model: intents.IntentModel, minilm: Embedder
) -> None:
    classifier = intents.LinearIntentClassifier(model, minilm)
    predictions = classifier.predict(QUERIES, threshold=0.0)
    assert [p.label for p in predictions] == EXPECTED
    assert classifier.labels == ["cancel_order", "get_refund", "recover_password", "track_order"]


def test_out_of_scope_text_is_flagged(model: intents.IntentModel, minilm: Embedder) -> None:
    prediction = intents.LinearIntentClassifier(model, minilm).predict(
        ["what is the weather in Paris tomorrow"], threshold=0.0
    )[0]
    assert (prediction.label, prediction.out_of_scope) == ("oos", True)


def test_a_threshold_above_every_confidence_rejects_everything(
    model: intents.IntentModel, minilm: Embedder
) -> None:
    predictions = intents.LinearIntentClassifier(model, minilm).predict(QUERIES, threshold=1.0)
    assert [(p.label, p.out_of_scope) for p in predictions] == [("oos", True)] * 3


def test_saved_model_predicts_the_same_within_float16_rounding(
    model: intents.IntentModel, minilm: Embedder, tmp_path: Path
) -> None:
    intents.save(model, tmp_path / "model")
    loaded = intents.load(tmp_path / "model")
    before = intents.LinearIntentClassifier(model, minilm).predict(QUERIES)
    after = intents.LinearIntentClassifier(loaded, minilm).predict(QUERIES)
    assert [(p.label, round(p.confidence, 3)) for p in after] == [
        (p.label, round(p.confidence, 3)) for p in before
    ]


def test_without_the_embedder_the_ngram_head_answers(model: intents.IntentModel) -> None:
    classifier = intents.LinearIntentClassifier(model, None)
    assert classifier.feature_name == HASHING_NAME
    predictions = classifier.predict(["cancel my order please", "reset my password"], 0.0)
    assert [p.label for p in predictions] == ["cancel_order", "recover_password"]


@pytest.mark.parametrize("classes", [2, 4])
def test_a_head_fitted_on_the_used_columns_equals_the_fit_on_every_column(classes: int) -> None:
    from sklearn.linear_model import LogisticRegression

    rows = intent_rows(with_out_of_scope=False)
    rows = [row for row in rows if row[1] in sorted({label for _, label in rows})[:classes]]
    texts, labels = [t for t, _ in rows], [label for _, label in rows]
    features = ngram_features(texts)
    targets = np.array([sorted(set(labels)).index(label) for label in labels])
    unused = np.setdiff1d(np.arange(features.shape[1]), features.indices)
    assert len(unused) > 0.9 * features.shape[1]  # the hashing space is mostly empty

    head = fit_head(features, targets, classes)

    full = LogisticRegression(C=REGULARIZATION, max_iter=300).fit(features, targets)
    assert not head.weights[unused].any()
    expected = features @ full.coef_.T + full.intercept_
    logits = np.asarray(features @ head.weights) + head.bias
    if classes == 2:  # sklearn's one row becomes two opposite halves
        expected = np.hstack([-expected / 2, expected / 2])
    np.testing.assert_allclose(logits, expected, atol=1e-4)


def test_texts_without_any_ngram_still_train_a_head() -> None:
    model = train_intents(["", " ", "\t", "  "], ["a", "b", "a", "b"], None)
    head = model.heads[HASHING_NAME]
    assert not head.weights.any()
    assert intents.LinearIntentClassifier(model, None).predict(["anything"])[0].confidence == 0.5


def test_training_needs_two_labels() -> None:
    with pytest.raises(ValueError, match="at least two labels"):
        train_intents(["a", "b"], ["x", "x"], None)


def test_default_model_knows_the_shop_intents(minilm: Embedder) -> None:
    classifier = intents.default_classifier(minilm)
    predictions = classifier.predict(
        ["where is my order", "I want to cancel my order", "I forgot my password"]
    )
    assert [p.label for p in predictions] == ["track_order", "cancel_order", "recover_password"]
    assert len(classifier.labels) == 27


def test_threshold_rejects_two_percent_of_in_scope_rows_with_an_oos_label() -> None:
    model = intents.IntentModel(["a", "b", "oos"], "oos", {})
    head = intents.Head(np.zeros((1, 3), dtype=np.float32), np.zeros(3, dtype=np.float32))
    confidences = np.linspace(0.5, 0.99, 50, dtype=np.float32)
    probabilities = np.stack([confidences, 1 - confidences, np.zeros(50)], axis=1)
    truth = ["a"] * 50
    choose_threshold(model, head, probabilities.astype(np.float32), truth)
    assert head.threshold == pytest.approx(float(np.quantile(confidences, 0.02)))
    model.oos_label = None
    choose_threshold(model, head, probabilities.astype(np.float32), truth)
    assert head.threshold == pytest.approx(0.3)
