"""Knowledge base errors, each with its HTTP status."""

from __future__ import annotations

from rapport.errors import BadRequest, Conflict, NotFound


class ArticleNotFound(NotFound):
    """No such article in this workspace (or not published, for the public)."""


class SlugTaken(Conflict):
    """Another article of this workspace already has that slug in that locale."""


class TranslationExists(Conflict):
    """The translation group already has an article in that locale."""


class ProductSheetNotFound(NotFound):
    """No fact sheet for that product in that locale in this workspace."""


class InvalidProductKey(BadRequest):
    """A product id that cannot be a fact sheet's address ("." or "..")."""
