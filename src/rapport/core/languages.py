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
_WEIGHT = re.compile(r"^[qQ]=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


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
    """Return the best of the `available` languages (as the page spells it) for a visitor who
    wants `wanted`, most wanted first, as RFC 4647 looks up: each wanted tag, then shorter
    forms of it ("zh-hant-tw", "zh-hant", "zh"); only when none of the visitor's languages is
    there in any such form, a regional form of one of them ("es" finds "es-MX"; "zh-TW"
    never finds "zh-Hans" before an "en" the visitor listed next). None: nothing fits."""
    offered = list(available)
    by_lower = {code.lower(): code for code in offered}
    tags = [tag.lower() for tag in wanted]
    for tag in tags:
        parts = tag.split("-")
        for end in range(len(parts), 0, -1):
            if (found := by_lower.get("-".join(parts[:end]))) is not None:
                return found
    for tag in tags:
        primary = tag.split("-")[0]
        for code in offered:
            if code.lower().split("-")[0] == primary:
                return code
    return None
