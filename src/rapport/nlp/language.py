"""Language detection with py3langid (offline, about 100 languages)."""

from __future__ import annotations

from typing import Any

from rapport.nlp.ports import LanguageResult

UNKNOWN = "und"
# py3langid's code for text with no language in it (a link, a hash, an id): not a language.
NO_LANGUAGE = "zxx"


class LangidDetector:
    """The LanguageDetector port over py3langid, probabilities normalised to [0, 1]."""

    def __init__(self, languages: list[str] | None = None) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self._identifier: Any = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        if languages:
            self._identifier.set_languages(languages)

    def detect(self, text: str) -> LanguageResult:
        """Return the most likely language, or "und" for text without letters."""
        if not any(character.isalpha() for character in text):
            return LanguageResult(UNKNOWN, 0.0)
        language, probability = self._identifier.classify(text)
        if language == NO_LANGUAGE:
            return LanguageResult(UNKNOWN, 0.0)
        return LanguageResult(str(language), float(probability))
