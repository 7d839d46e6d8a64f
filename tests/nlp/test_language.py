"""Language detection with py3langid."""

from __future__ import annotations

import pytest

from rapport.nlp.language import LangidDetector


@pytest.fixture(scope="module")
def detector() -> LangidDetector:
    return LangidDetector()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Where is my order? It was supposed to arrive yesterday.", "en"),
        ("Où est ma commande ? Elle devait arriver hier.", "fr"),
        ("Wo ist meine Bestellung? Sie sollte gestern ankommen.", "de"),
        ("¿Dónde está mi pedido? Debía llegar ayer.", "es"),
    ],
)
def test_detects_common_languages(detector: LangidDetector, text: str, language: str) -> None:
    result = detector.detect(text)
    assert result.language == language
    assert 0.5 < result.confidence <= 1.0


def test_text_without_letters_is_undetermined(detector: LangidDetector) -> None:
    assert detector.detect("12345 !!").language == "und"
