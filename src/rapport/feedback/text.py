"""Free text of responses: sealed to its row, labelled with sentiment and topics."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from rapport.core.crypto import keyring
from rapport.nlp.embeddings import shared_embedder
from rapport.nlp.ports import SentimentAnalyzer
from rapport.nlp.sentiment import load_sentiment

# Topic -> words that name it (lower case, whole words or their start).
TOPICS: dict[str, tuple[str, ...]] = {
    "delivery": ("deliver", "shipping", "shipment", "courier", "parcel", "package", "arriv"),
    "price": ("price", "expensive", "cheap", "cost", "discount", "overpriced"),
    "product quality": ("quality", "broken", "damaged", "defect", "faulty", "flimsy"),
    "support": ("support", "agent", "service", "staff", "helpful", "rude", "answer"),
    "returns": ("return", "refund", "exchange"),
    "speed": ("slow", "fast", "quick", "wait", "late", "delay"),
    "website": ("website", "site", "app", "checkout", "login", "page"),
}
WORD = re.compile(r"[a-z]+")
# Comments that decline to comment, compared by their words (case folded, punctuation
# dropped). They carry no opinion, but both sentiment heads read "no", "none" and "nothing" as
# negative ("No comment" -0.21, "Nothing to add." -0.24): a survey full of them would count as
# unhappy customers. English, French, German and Spanish, as the assistant speaks.
NON_ANSWERS = frozenset(
    {
        "no", "none", "nothing", "nope", "nil", "na", "n a", "not applicable", "no comment",
        "no comments", "nothing to add", "nothing else", "nothing more", "nothing to say",
        "nothing to report", "nothing further", "nothing at all", "none at all", "nah",
        "no thanks", "no thank you", "no thx", "no opinion", "i don t know", "don t know",
        "dont know", "idk", "no idea", "pass", "skip", "nothing for now", "nothing at the moment",
        "rien", "non", "aucun", "aucune", "rien à dire", "rien à ajouter", "rien à signaler",
        "aucun commentaire", "sans commentaire", "pas de commentaire", "je ne sais pas",
        "non merci", "aucune idée",
        "nichts", "nein", "kein", "keine", "keine ahnung", "kein kommentar", "keine angabe",
        "k a", "nichts hinzuzufügen", "nichts zu sagen", "nichts weiter", "keine anmerkungen",
        "nein danke",
        "nada", "ninguno", "ninguna", "sin comentarios", "nada que añadir", "nada que agregar",
        "nada más", "no sé", "no lo sé", "no gracias", "ni idea",
    }
)  # fmt: skip
ANY_WORD = re.compile(r"[^\W_]+")
# A comment of these characters alone ("-", ".", "???") says nothing; emoji and emoticons
# (":(", "👎") carry a feeling the model reads.
SILENT = re.compile(r"[\s\-\u2013\u2014.,;?!/*_\u2026'\u2019]*")


@dataclass(frozen=True)
class TextLabels:
    """What a comment says: a sentiment label, its score in [-1, 1] and its topics."""

    label: str
    score: float
    topics: list[str]


def comment_aad(response_id: str) -> str:
    """Return the associated data that binds a sealed comment to its response."""
    return f"feedback_responses.comment:{response_id}"


def answers_aad(response_id: str) -> str:
    """Return the associated data that binds sealed answers to their response."""
    return f"feedback_responses.answers:{response_id}"


def seal_comment(response_id: str, comment: str | None) -> bytes | None:
    """Seal a comment to its response row (None stays None)."""
    return None if comment is None else keyring().encrypt(comment, comment_aad(response_id))


def open_comment(response_id: str, sealed: bytes | None) -> str | None:
    """Open a sealed comment."""
    return None if sealed is None else keyring().decrypt(sealed, comment_aad(response_id))


def seal_answers(response_id: str, answers: dict[str, Any]) -> bytes | None:
    """Seal a response's answers to its row (none: None)."""
    if not answers:
        return None
    return keyring().encrypt(json.dumps(answers), answers_aad(response_id))


def open_answers(response_id: str, sealed: bytes | None) -> dict[str, Any]:
    """Open sealed answers."""
    if sealed is None:
        return {}
    opened: dict[str, Any] = json.loads(keyring().decrypt(sealed, answers_aad(response_id)))
    return opened


@cache
def analyzer() -> SentimentAnalyzer:
    """Return the sentiment analyzer for comments, written as opinions (loaded once per
    process): the MiniLM head (the n-gram head where MiniLM is missing), one neutral only when
    both the opinion gate and the band say so. It shares the process's model but not its
    memory of recent texts: no other part reads a comment's vector, and an import's thousands
    would push the live messages' out."""
    return load_sentiment(shared_embedder().inner, opinions=True)


def topics_of(text: str) -> list[str]:
    """Return the topics a comment mentions, in TOPICS order."""
    words = WORD.findall(text.lower())
    return [
        topic
        for topic, stems in TOPICS.items()
        if any(word.startswith(stem) for word in words for stem in stems)
    ]


def says_nothing(text: str) -> bool:
    """Return whether a comment declines to comment: punctuation alone, or one of
    NON_ANSWERS with nothing but punctuation around its words ("nothing to add :(" has a
    feeling to read); compared in Unicode's composed form ("no se" + a combining accent is
    "no sé")."""
    composed = unicodedata.normalize("NFC", text.casefold())
    if not SILENT.fullmatch(ANY_WORD.sub("", composed)):
        return False
    words = ANY_WORD.findall(composed)
    return not words or " ".join(words) in NON_ANSWERS


def label_texts(texts: Sequence[str], reader: SentimentAnalyzer | None = None) -> list[TextLabels]:
    """Label comments (a model call: never inside a unit of work) with `reader` (by default
    the process's `analyzer()`). One that says nothing ("none", "n/a", "-") is neutral with a
    score of 0, without a model."""
    if not texts:
        return []
    silent = [says_nothing(text) for text in texts]
    read = [text for text, nothing in zip(texts, silent, strict=True) if not nothing]
    reader = reader if reader is not None else analyzer()
    results = iter(reader.analyze(read) if read else [])
    labels = []
    for text, nothing in zip(texts, silent, strict=True):
        if nothing:
            labels.append(TextLabels("neutral", 0.0, []))
            continue
        result = next(results)
        labels.append(TextLabels(str(result.label), round(float(result.score), 4), topics_of(text)))
    return labels
