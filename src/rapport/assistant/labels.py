"""The NLP models the assistant labels customer messages with, loaded once per process,
and the labels of one text (plain data in and out: run it outside any unit of work)."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapport.assistant.replies import SPOKEN
from rapport.assistant.state import only_answers
from rapport.nlp.intents import LinearIntentClassifier, default_classifier
from rapport.nlp.language import (
    ENGLISH,
    LANGUAGE_SURE,
    OTHER_LANGUAGE_SURE,
    UNKNOWN,
    FocusedDetector,
    outside,
)
from rapport.nlp.ports import (
    IntentClassifier,
    IntentPrediction,
    LanguageDetector,
    LanguageResult,
    SentimentAnalyzer,
    Vectors,
)
from rapport.support.assistant_desk import MessageLabels

# The models see at most this much of a message (a 100 KB paste is labelled by its start).
MAX_MODEL_CHARS = 2000
# The shipped intent model reads the languages it was trained on (English, French, German,
# Spanish): a message surely (OTHER_LANGUAGE_SURE) in another gets no shipped intent. The
# workspace's own intents, with examples in its language, still match it; the knowledge base
# is searched in its language. The language is told leaning to the ones the assistant speaks
# (FocusedDetector): "donde esta mi pedido" is Spanish, not a guess.


@dataclass(frozen=True)
class Models:
    """The three ports the labels come from."""

    intents: IntentClassifier
    sentiment: SentimentAnalyzer
    language: LanguageDetector
    # What reads a message told in a language the intent model learned other than English:
    # the same model's n-gram head. MiniLM learned English, so the head on its vectors reads
    # French, German and Spanish worse (3 folds of the written messages: in-scope accuracy
    # 0.546 against 0.596, out-of-scope recall 0.900 against 0.942; `bench/
    # nlp_intents_languages.py choose`). None: `intents` reads every language.
    other_languages: IntentClassifier | None = None


_models: Models | None = None
_lock = threading.Lock()


def use_models(models: Models | None) -> None:
    """Replace the process's models (tests use the fakes of `rapport.nlp.fakes`)."""
    global _models
    _models = models


def models() -> Models:
    """Return the process's models, loading the shipped ones on first use."""
    global _models
    with _lock:
        if _models is None:
            from rapport.nlp.embeddings import shared_embedder
            from rapport.nlp.sentiment import load_sentiment

            # The shared embedder remembers recent texts: the intent and sentiment heads,
            # then the knowledge search, read one embedding of the message.
            embedder = shared_embedder()
            classifier = default_classifier(embedder)
            ngrams = LinearIntentClassifier(classifier.model, None)
            # One reading of the language: the one stored decides the sentiment's head too.
            language = FocusedDetector(SPOKEN)
            _models = Models(
                classifier,
                load_sentiment(embedder, language=language),
                language,
                ngrams if ngrams.feature_name != classifier.feature_name else None,
            )
        return _models


def clean(text: str) -> str:
    """Return the text a model may read: control and unassigned characters dropped,
    whitespace collapsed, cut to MAX_MODEL_CHARS."""
    kept = (
        character if unicodedata.category(character)[0] != "C" else " "
        for character in text[: MAX_MODEL_CHARS * 2]
    )
    return " ".join("".join(kept).split())[:MAX_MODEL_CHARS]


def label_text(text: str) -> MessageLabels:
    """Label one message: language, intent with confidence, sentiment with score."""
    cleaned = clean(text)
    if not any(character.isalnum() for character in cleaned):
        # Empty, emoji-only or binary noise: nothing the models read reliably.
        return MessageLabels(UNKNOWN, "out_of_scope", 0.0, "neutral", 0.0, bare=True)
    loaded = models()
    detected = loaded.language.detect(cleaned)
    language = _told(detected)
    if only_answers(cleaned):
        # A bare answer ("oui", "nein", an email address, an order number) asks for nothing
        # and tells no mood: the dialogue reads it as an answer; no intent may start a task
        # or a hand-off from it, nor its sentiment raise a priority or hand off ("yes" reads
        # positive, "1002 😭😭" negative: neither is the customer's mood).
        return MessageLabels(language, "out_of_scope", 0.0, "neutral", 0.0, bare=True)
    reader = _reader(loaded, language)
    [intent] = reader.predict([cleaned])
    [sentiment] = loaded.sentiment.analyze([cleaned], [detected])
    other_language = outside(detected, reader.languages, OTHER_LANGUAGE_SURE)
    return MessageLabels(
        language=language,
        intent="out_of_scope" if intent.out_of_scope or other_language else intent.label,
        # The model's reading of a language it never learned says nothing.
        intent_confidence=0.0 if other_language else round(float(intent.confidence), 4),
        sentiment=sentiment.label,
        sentiment_score=round(float(sentiment.score), 4),
    )


def _told(detected: LanguageResult) -> str:
    """Return the language a detection tells, "und" where it is not sure enough."""
    return detected.language if detected.confidence >= LANGUAGE_SURE else UNKNOWN


def _reader(loaded: Models, language: str) -> IntentClassifier:
    """Return what reads the intent of a message told in `language`."""
    main = loaded.intents
    if loaded.other_languages is not None and language != ENGLISH and language in main.languages:
        return loaded.other_languages
    return main


def intents_of(
    texts: Sequence[str], vectors: Vectors | None = None, model: str | None = None
) -> list[IntentPrediction]:
    """Return the shipped intent model's reading of many texts (cleaned), each read as
    `label_text` reads it (by the head for its language): `vectors`, made by the embedder
    named `model`, are used instead of embedding the texts again when the classifier reads
    that embedder's."""
    loaded = models()
    main = loaded.intents
    by_reader: dict[int, tuple[IntentClassifier, list[int]]] = {}
    for index, text in enumerate(texts):
        reader = _reader(loaded, _told(loaded.language.detect(text)))
        by_reader.setdefault(id(reader), (reader, []))[1].append(index)
    found: dict[int, IntentPrediction] = {}
    for reader, indices in by_reader.values():
        chosen = [texts[index] for index in indices]
        if (
            reader is main
            and vectors is not None
            and isinstance(main, LinearIntentClassifier)
            and main.feature_name == model
        ):
            read = main.predict(chosen, embeddings=vectors[indices])
        else:
            read = reader.predict(chosen)
        found.update(zip(indices, read, strict=True))
    return [found[index] for index in range(len(texts))]
