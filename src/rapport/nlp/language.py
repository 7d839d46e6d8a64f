"""Language detection with py3langid (offline, about 100 languages)."""

from __future__ import annotations

import re
from collections.abc import Sequence
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
# How sure it must be that a text is in a language the shipped intents were not trained on
# before they set it aside. None of those 1,200 English messages was told another at it.
OTHER_LANGUAGE_SURE = 0.9
# How sure a FocusedDetector's second reading, among its few languages, must be.
FOCUSED_SURE = 0.9
SPANISH = "es"
# Of the languages a shop's assistant speaks, only Spanish opens a question or an exclamation
# with "¿" or "¡": "¿Aceptan PayPal?" is Spanish, though too short for the model to be sure.
SPANISH_OPENING = re.compile(r"(?:^|[\s.!?])[¿¡]\s*[^\W\d_]")


def outside(found: LanguageResult, languages: Sequence[str], sure: float) -> bool:
    """Tell whether a detection says, at least `sure`, that a text is in a language other than
    `languages`."""
    return found.language not in (*languages, UNKNOWN) and found.confidence >= sure


def not_english(found: LanguageResult, sure: float) -> bool:
    """Tell whether a detection says, at least `sure`, that a text is in another language."""
    return outside(found, (ENGLISH,), sure)


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


class FocusedDetector:
    """A LanguageDetector that tells a short text's language among a few expected ones.

    Over a hundred languages, a short message is a guess ("donde esta mi pedido": Spanish at
    0.37, "merci beaucoup": French at 0.48, both under LANGUAGE_SURE). When the general
    detector is unsure but its best guess is one of `languages`, and the text has at least two
    words, the same model is asked again among `languages` alone, and its answer is taken when
    at least FOCUSED_SURE. A text surely in another language, a single word ("ok", "merci") and
    a guess outside `languages` keep the general reading; a text of two words or more the
    general detector is unsure of, that opens a question or an exclamation the Spanish way
    ("¿Aceptan PayPal?") and that the focused reading leans to Spanish, is Spanish (if it is
    one of `languages`)."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        self._general = LangidDetector()
        self._focused = LangidDetector(list(self.languages))

    def detect(self, text: str) -> LanguageResult:
        """Return the general reading, or the focused one where it is sure and that is not."""
        found = self._general.detect(text)
        if found.confidence >= LANGUAGE_SURE:
            return found
        words = sum(1 for word in text.split() if any(character.isalpha() for character in word))
        spanish_way = SPANISH in self.languages and SPANISH_OPENING.search(text) is not None
        if words < 2 or (found.language not in self.languages and not spanish_way):
            return found
        focused = self._focused.detect(text)
        if spanish_way and focused.language == SPANISH:
            return LanguageResult(SPANISH, max(focused.confidence, FOCUSED_SURE))
        return focused if focused.confidence >= FOCUSED_SURE else found
