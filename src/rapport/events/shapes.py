"""Check the JSON types of a document's known fields by hand (the ingestion hot path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Kinds = frozenset[type]

OBJECT: Kinds = frozenset({dict})
ARRAY: Kinds = frozenset({list})
TEXT: Kinds = frozenset({str})
NUMBER: Kinds = frozenset({int, float})
FLAG: Kinds = frozenset({bool})
ID: Kinds = TEXT | NUMBER
AMOUNT: Kinds = TEXT | NUMBER

_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "true or false"}


@dataclass(frozen=True)
class Shape:
    """The JSON types of an object's known fields (null counts as absent; fields it does not
    name are the sender's own), and the shapes of its nested objects and arrays of objects."""

    fields: dict[str, Kinds]
    objects: dict[str, Shape] = field(default_factory=dict)
    arrays: dict[str, Shape] = field(default_factory=dict)


def check(document: dict[str, Any], shape: Shape, path: str = "") -> None:
    """Raise ValueError naming the first known field whose JSON type is wrong."""
    for key, value in document.items():
        kinds = shape.fields.get(key)
        if kinds is None or value is None:
            continue
        if type(value) not in kinds:
            raise ValueError(f"`{path}{key}` must be {describe(kinds)}, not {_name(value)}")
        if key in shape.objects:
            check(value, shape.objects[key], f"{path}{key}.")
        elif key in shape.arrays:
            _check_items(value, shape.arrays[key], f"{path}{key}")


def _check_items(items: list[Any], shape: Shape, path: str) -> None:
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise ValueError(f"`{path}[{index}]` must be an object, not {_name(item)}")
        check(item, shape, f"{path}[{index}].")


def describe(kinds: Kinds) -> str:
    """Name some JSON types in words: `a string or a number`."""
    names = {_NAMES.get(kind, "a number") for kind in kinds}
    return " or ".join(sorted(names))


def _name(value: Any) -> str:
    return _NAMES.get(type(value), "a number")
