"""How the shipped intent model reads customers who write in French, German and Spanish.

    python bench/nlp_intents_languages.py choose               # 3 folds of the training file
    python bench/nlp_intents_languages.py evaluate [MODEL_DIR ...]

`choose` trains as the shipped model is built (every Bitext row, our English shop messages and
two thirds of shop_intents_multilingual_train.tsv, each written message three times, the
shipped thresholds) and reads the third left out with each head (MiniLM, n-grams alone),
pooled over the folds: which head should read these languages. It never reads the test file.

`evaluate`:
Scores the model shipped in src/rapport/nlp/data/intents (and each other model directory
given, such as the one shipped before) on bench/data/shop_intents_multilingual_test.tsv (540
messages, 180 a language, written apart from the training file), reading each message as the
assistant labels it (`rapport.assistant.labels`): the language told leaning to the languages
the assistant speaks, and no intent for a message at least 90 % surely in a language the
model was not trained on (its metadata's `languages`; English where it does not say). Each
head (MiniLM, n-grams alone) at its own threshold. Printed per language and in all: in-scope
accuracy (a rejection counts as a miss), out-of-scope recall and precision, accuracy and
macro-F1 over the 28 labels; then again for the messages not also in the training file (case,
accents and punctuation aside: short ones such as "agent" were written by both writers).
English is bench/nlp_shop_intents.py's `evaluate` (shop_intents_test.tsv), unchanged here.

`costs`:
Reads bench/data/shop_cost_questions_test.tsv (25 questions about what shipping and returns
cost, in English, French, German and Spanish, written apart from the training rows about
them) as the assistant labels a message, and prints each with its label, how many got the
right intent, and how many a confident label would start an order task or a hand-off for
(the dialogue's ACTING_INTENTS: an order number asked of a customer who asked a price).
"""

from __future__ import annotations

import sys
import time
import unicodedata
from pathlib import Path

import numpy as np

from nlp_build_models import (
    LANGUAGE_INTENTS_WEIGHT,
    MINILM_THRESHOLD,
    NGRAM_THRESHOLD,
    SHOP_INTENTS_WEIGHT,
)
from nlp_datasets import (
    COST_QUESTIONS,
    LANGUAGE_INTENTS_TEST,
    LANGUAGE_INTENTS_TRAIN,
    SHOP_INTENTS_TRAIN,
    bitext_all,
    language_intents,
    shop_intents,
)
from nlp_shop_intents import MODEL_DIR, CachedEmbedder, probabilities_of, scores
from rapport.assistant.dialogue import ACTING_INTENTS
from rapport.assistant.labels import label_text
from rapport.assistant.replies import SPOKEN
from rapport.nlp import intents, metrics
from rapport.nlp.embeddings import HASHING_NAME
from rapport.nlp.intents import OUT_OF_SCOPE, LinearIntentClassifier
from rapport.nlp.language import OTHER_LANGUAGE_SURE, FocusedDetector, outside
from rapport.nlp.training import train_intents

LANGUAGES = ("fr", "de", "es")
FOLDS = 3


def choose() -> None:
    embedder = CachedEmbedder()
    base = bitext_all() + shop_intents(SHOP_INTENTS_TRAIN) * SHOP_INTENTS_WEIGHT
    written = language_intents(LANGUAGE_INTENTS_TRAIN)
    rng = np.random.default_rng(0)
    fold_of: dict[int, int] = {}
    for key in sorted({(label, language) for _, label, language in written}):
        indices = [i for i, row in enumerate(written) if (row[1], row[2]) == key]
        rng.shuffle(indices)
        fold_of.update({index: position % FOLDS for position, index in enumerate(indices)})
    thresholds = {embedder.name: MINILM_THRESHOLD, HASHING_NAME: NGRAM_THRESHOLD}
    pooled: dict[str, list[np.ndarray]] = {"minilm": [], "ngrams": []}
    truth: list[str] = []
    languages: list[str] = []
    model = None
    for fold in range(FOLDS):
        started = time.perf_counter()
        kept = [(t, label) for i, (t, label, _) in enumerate(written) if fold_of[i] != fold]
        held = [row for i, row in enumerate(written) if fold_of[i] == fold]
        rows = base + kept * LANGUAGE_INTENTS_WEIGHT
        texts, labels = [text for text, _ in rows], [label for _, label in rows]
        trained = train_intents(texts, labels, embedder, OUT_OF_SCOPE, thresholds=thresholds)
        embedder.save()
        assert model is None or trained.labels == model.labels
        model = trained
        for head, with_embedder in (("minilm", embedder), ("ngrams", None)):
            pooled[head].append(probabilities_of(model, with_embedder, [t for t, _, _ in held]))
        truth += [label for _, label, _ in held]
        languages += [language for _, _, language in held]
        print(f"fold {fold}: {len(held)} held out, {time.perf_counter() - started:.0f} s")
    assert model is not None
    for head, threshold in (("minilm", MINILM_THRESHOLD), ("ngrams", NGRAM_THRESHOLD)):
        stacked = np.vstack(pooled[head])
        for language in (*LANGUAGES, "all"):
            rows = [i for i, found in enumerate(languages) if language in ("all", found)]
            accuracy, recall, mean = scores(
                model, stacked[rows], [truth[i] for i in rows], threshold
            )
            print(
                f"{head:6} head (threshold {threshold}) {language:3}: in-scope accuracy "
                f"{accuracy:.4f}, oos recall {recall:.4f}, mean {mean:.4f}"
            )


def normalised(text: str) -> str:
    """Lower case, accents and punctuation dropped, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


def evaluate() -> None:
    test = language_intents(LANGUAGE_INTENTS_TEST)
    trained = {normalised(text) for text, _, _ in language_intents(LANGUAGE_INTENTS_TRAIN)}
    unseen = [row for row in test if normalised(row[0]) not in trained]
    embedder = CachedEmbedder()
    detector = FocusedDetector(SPOKEN)
    detected = {text: detector.detect(text) for text, _, _ in test}
    labelled = {text: label_text(text).intent for text, _, _ in test}
    print("-- shipped, as the assistant labels a message (rapport.assistant.labels.label_text)")
    report_on(test, unseen, labelled)
    others = {argument: Path(argument) for argument in sys.argv[2:]}
    candidates = {"shipped": MODEL_DIR, **others}
    for name, directory in candidates.items():
        model = intents.load(directory)
        for head, with_embedder in (("minilm", embedder), ("ngrams", None)):
            classifier = LinearIntentClassifier(model, with_embedder)
            texts = [text for text, _, _ in test]
            found = classifier.predict(texts)
            predicted = {
                text: OUT_OF_SCOPE
                if prediction.out_of_scope
                or outside(detected[text], classifier.languages, OTHER_LANGUAGE_SURE)
                else prediction.label
                for text, prediction in zip(texts, found, strict=True)
            }
            print(f"-- {name} ({', '.join(classifier.languages)}), {head} head")
            report_on(test, unseen, predicted)


def report_on(
    test: list[tuple[str, str, str]],
    unseen: list[tuple[str, str, str]],
    predicted: dict[str, str],
) -> None:
    for rows, which in ((test, "all"), (unseen, "not in the training file")):
        for language in (*LANGUAGES, "all"):
            chosen = [row for row in rows if language in ("all", row[2])]
            truth = [label for _, label, _ in chosen]
            report = metrics.intent_report(
                truth, [predicted[text] for text, _, _ in chosen], OUT_OF_SCOPE
            )
            print(
                f"   {which:24} {language:3} {len(chosen):4} rows: in-scope accuracy "
                f"{report['in_scope_accuracy']:.3f}, oos recall {report['oos_recall']:.3f}"
                f", oos precision {report['oos_precision']:.3f}, accuracy "
                f"{report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}"
            )


def costs() -> None:
    questions = language_intents(COST_QUESTIONS)
    right = acting = 0
    for text, label, language in questions:
        found = label_text(text)
        right += found.intent == label
        acts = found.intent in ACTING_INTENTS
        acting += acts
        mark = "ok " if found.intent == label else "ACT" if acts else "-- "
        print(f"{mark} {language} {found.intent:24} {found.intent_confidence:.2f}  {text}")
    print(
        f"{len(questions)} questions: right intent {right}, "
        f"an order task or hand-off {acting} (acting intents)"
    )


if __name__ == "__main__":
    {"choose": choose, "evaluate": evaluate, "costs": costs}[sys.argv[1]]()
