"""How the shipped intent model reads customers who write in French, German and Spanish.

    python bench/nlp_intents_languages.py [MODEL_DIR ...]

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
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

from nlp_datasets import LANGUAGE_INTENTS_TEST, LANGUAGE_INTENTS_TRAIN, language_intents
from nlp_shop_intents import MODEL_DIR, CachedEmbedder
from rapport.assistant.replies import SPOKEN
from rapport.nlp import intents, metrics
from rapport.nlp.intents import OUT_OF_SCOPE, LinearIntentClassifier
from rapport.nlp.language import OTHER_LANGUAGE_SURE, FocusedDetector, outside

LANGUAGES = ("fr", "de", "es")


def normalised(text: str) -> str:
    """Lower case, accents and punctuation dropped, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


def main() -> None:
    test = language_intents(LANGUAGE_INTENTS_TEST)
    trained = {normalised(text) for text, _, _ in language_intents(LANGUAGE_INTENTS_TRAIN)}
    unseen = [row for row in test if normalised(row[0]) not in trained]
    embedder = CachedEmbedder()
    detector = FocusedDetector(SPOKEN)
    detected = {text: detector.detect(text) for text, _, _ in test}
    candidates = {"shipped": MODEL_DIR, **{argument: Path(argument) for argument in sys.argv[1:]}}
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


if __name__ == "__main__":
    main()
