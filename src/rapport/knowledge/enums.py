"""Knowledge base enumerations."""

from __future__ import annotations

import enum


class ArticleStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
