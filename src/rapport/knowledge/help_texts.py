"""The help center's own words (headings, search, links) in the languages the assistant
speaks; a page in any other locale uses English. The articles are the shop's own, in their
locales. French puts a narrow no-break space (U+202F) before "?", ";" and inside « »,
so a phone never wraps the mark onto a line of its own; titles use an en dash (U+2013)."""

from __future__ import annotations

from collections.abc import Mapping

from rapport.nlp.language import ENGLISH

TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "help": "Help",
        "help_center": "Help center",
        "title": "{name} help center",
        "heading": "How can we help?",
        "search": "Search",
        "search_articles": "Search articles",
        "results_for": "Results for",
        "open_quote": "“",
        "close_quote": "”",
        "no_match": "No article matches. Try other words, or ask us in the chat.",
        "no_articles": "No articles yet.",
        "all_articles": "All articles",
        "updated": "Updated",
        "general": "General",
        "language": "Language",
        "not_found": "Not found",
        "no_page": "There is no such page in this help center.",
        "too_many": "Too many searches; try again shortly.",
    },
    "de": {
        "help": "Hilfe",
        "help_center": "Hilfe-Center",
        "title": "{name} \u2013 Hilfe-Center",
        "heading": "Wie können wir helfen?",
        "search": "Suchen",
        "search_articles": "Artikel durchsuchen",
        "results_for": "Ergebnisse für",
        "open_quote": "„",
        "close_quote": "“",
        "no_match": (
            "Keine passenden Artikel gefunden. Versuchen Sie andere Wörter oder fragen Sie uns "
            "im Chat."
        ),
        "no_articles": "Noch keine Artikel.",
        "all_articles": "Alle Artikel",
        "updated": "Aktualisiert am",
        "general": "Allgemein",
        "language": "Sprache",
        "not_found": "Nicht gefunden",
        "no_page": "Diese Seite gibt es in diesem Hilfe-Center nicht.",
        "too_many": "Zu viele Suchanfragen; bitte versuchen Sie es gleich noch einmal.",
    },
    "fr": {
        "help": "Aide",
        "help_center": "Centre d'aide",
        "title": "{name} \u2013 Centre d'aide",
        "heading": "Comment pouvons-nous vous aider\u202f?",
        "search": "Rechercher",
        "search_articles": "Rechercher un article",
        "results_for": "Résultats pour",
        "open_quote": "«\u202f",
        "close_quote": "\u202f»",
        "no_match": (
            "Aucun article ne correspond. Essayez d'autres mots ou écrivez-nous dans le chat."
        ),
        "no_articles": "Pas encore d'articles.",
        "all_articles": "Tous les articles",
        "updated": "Mis à jour le",
        "general": "Général",
        "language": "Langue",
        "not_found": "Page introuvable",
        "no_page": "Cette page n'existe pas dans ce centre d'aide.",
        "too_many": "Trop de recherches\u202f; réessayez dans un instant.",
    },
    "es": {
        "help": "Ayuda",
        "help_center": "Centro de ayuda",
        "title": "{name} \u2013 Centro de ayuda",
        "heading": "¿En qué podemos ayudarle?",
        "search": "Buscar",
        "search_articles": "Buscar artículos",
        "results_for": "Resultados para",
        "open_quote": "«",
        "close_quote": "»",
        "no_match": "Ningún artículo coincide. Pruebe con otras palabras o pregúntenos en el chat.",
        "no_articles": "Todavía no hay artículos.",
        "all_articles": "Todos los artículos",
        "updated": "Actualizado el",
        "general": "General",
        "language": "Idioma",
        "not_found": "No encontrado",
        "no_page": "Esta página no existe en este centro de ayuda.",
        "too_many": "Demasiadas búsquedas; inténtelo de nuevo en un momento.",
    },
}


def help_texts(locale: str) -> Mapping[str, str]:
    """Return the help center's words for a page in `locale` (by its language: "de-CH" reads
    German), English where there are none."""
    return TEXTS.get(locale.split("-")[0].lower(), TEXTS[ENGLISH])
