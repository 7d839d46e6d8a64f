"""Language detection with py3langid (offline, about 100 languages)."""

from __future__ import annotations

from typing import Any

from rapport.nlp.ports import LanguageResult

UNKNOWN = "und"
ENGLISH = "en"
# py3langid's code for text with no language in it (a link, a hash, an id): not a language.
NO_LANGUAGE = "zxx"
# How sure the detector must be for a language to be told at all (below: "und"). Short texts
# are guesses ("ok" reads as Serbian): of our 1,200 written English shop messages
# (bench/data/shop_intents_train.tsv) 46 were told another language with no cut, 3 at 0.5.
LANGUAGE_SURE = 0.5
# How sure it must be that a text is in another language before the shipped intents, trained
# on English alone, set it aside. None of those 1,200 messages reached it.
OTHER_LANGUAGE_SURE = 0.9


def not_english(found: LanguageResult, sure: float) -> bool:
    """Tell whether a detection says, at least `sure`, that a text is in another language."""
    return found.language not in (ENGLISH, UNKNOWN) and found.confidence >= sure


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
