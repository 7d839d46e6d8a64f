"""Canned responses' `{{variables}}`: a small substitution over known names, never a template
engine run on what staff typed (no expressions, no attribute access, no loops)."""

from __future__ import annotations

import re
from collections.abc import Mapping

# `{{ customer.first_name }}` or `{{ customer.first_name | there }}` (a fallback).
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_.]+)\s*(?:\|([^{}|]{0,100}))?\}\}")
VARIABLES = (
    "customer.name",
    "customer.first_name",
    "customer.last_name",
    "customer.email",
    "agent.name",
    "agent.first_name",
    "conversation.id",
    "conversation.channel",
    "order.last.number",
    "order.last.status",
)


def unknown_variables(text: str) -> list[str]:
    """Return the placeholders of `text` that name no known variable, in order."""
    names = [match.group(1) for match in PLACEHOLDER.finditer(text)]
    return list(dict.fromkeys(name for name in names if name not in VARIABLES))


def fill(text: str, values: Mapping[str, str | None]) -> str:
    """Replace each known placeholder by its value, else its fallback, else nothing; an
    unknown one stays as written."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in VARIABLES:
            return match.group(0)
        value = values.get(match.group(1))
        if value:
            return value
        return (match.group(2) or "").strip()

    return PLACEHOLDER.sub(replace, text)


def first_word(name: str | None) -> str | None:
    """Return the first word of a name (a first name), if any."""
    words = (name or "").split()
    return words[0] if words else None


def last_words(name: str | None) -> str | None:
    """Return all but the first word of a name (a last name), if any."""
    words = (name or "").split()
    return " ".join(words[1:]) or None
