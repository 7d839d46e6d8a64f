"""The languages a visitor's browser asks for (HTTP `Accept-Language`), and the best of those
a page has: public pages with no sign-in (the help center) speak the visitor's language
without a choice made first, as the best help centers do."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A header longer than this is read no further, and at most this many of its tags: a browser
# sends a handful, anything more is noise or an attack on the parser.
MAX_HEADER = 500
MAX_TAGS = 12
_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_WEIGHT = re.compile(r"^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


def accepted_languages(header: str | None) -> list[str]:
    """Return the language tags of an `Accept-Language` header, most wanted first (lower case;
    equal weights keep the header's order). A tag weighted 0, `*` and anything malformed are
    left out."""
    if not header:
        return []
    weighted: list[tuple[float, str]] = []
    for part in header[:MAX_HEADER].split(",")[:MAX_TAGS]:
        tag, _, parameters = part.strip().partition(";")
        tag = tag.strip()
        if not _TAG.fullmatch(tag):
            continue
        weight = 1.0
        if parameters:
            found = _WEIGHT.fullmatch(parameters.strip().replace(" ", ""))
            if found is None:
                continue
            weight = float(found.group(1))
        if weight > 0:
            weighted.append((weight, tag.lower()))
    weighted.sort(key=lambda item: -item[0])  # stable: ties keep the header's order
    return [tag for _, tag in weighted]


def best_language(wanted: Iterable[str], available: Iterable[str]) -> str | None:
    """Return the first wanted language a page has (as the page spells it): the tag itself,
    else its language alone ("de-AT" finds "de"), else a regional form of that language ("de"
    finds "de-CH"). None when none is there."""
    offered = list(available)
    by_lower = {code.lower(): code for code in offered}
    for tag in wanted:
        primary = tag.split("-")[0]
        for candidate in (tag, primary):
            if candidate in by_lower:
                return by_lower[candidate]
        for code in offered:
            if code.lower().split("-")[0] == primary:
                return code
    return None
