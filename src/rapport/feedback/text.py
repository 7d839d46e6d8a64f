"""Free text of responses: sealed to its row, labelled with sentiment and topics."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from rapport.core.crypto import keyring
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
    """Return the default sentiment analyzer for comments, written as opinions (loaded once
    per process): one is neutral only when both the opinion gate and the band say so."""
    return load_sentiment(None, opinions=True)


def topics_of(text: str) -> list[str]:
    """Return the topics a comment mentions, in TOPICS order."""
    words = WORD.findall(text.lower())
    return [
        topic
        for topic, stems in TOPICS.items()
        if any(word.startswith(stem) for word in words for stem in stems)
    ]


def label_texts(texts: Sequence[str]) -> list[TextLabels]:
    """Label comments (a model call: never inside a unit of work)."""
    if not texts:
        return []
    results = analyzer().analyze(list(texts))
    return [
        TextLabels(str(result.label), round(float(result.score), 4), topics_of(text))
        for result, text in zip(results, texts, strict=True)
    ]
