"""Traits: last write wins by event time, each value remembering its source and time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rapport.customers.models import Customer
from rapport.customers.pii import name_index, seal_json, unseal_json

NAME_TRAITS = (("first_name", "firstName"), ("last_name", "lastName"))
MAX_TRAITS = 200


def read_traits(customer: Customer) -> dict[str, dict[str, Any]]:
    """Return a profile's traits with their source and time."""
    return unseal_json(customer.traits, "customers", "traits", customer.id)


def write_traits(customer: Customer, traits: dict[str, dict[str, Any]]) -> None:
    """Seal and store a profile's traits."""
    customer.traits = seal_json(traits, "customers", "traits", customer.id)


def apply_traits(customer: Customer, incoming: dict[str, Any], source: str, at: datetime) -> bool:
    """Write the traits newer than what the profile holds; tell whether any changed."""
    current = read_traits(customer)
    changed = False
    stamp = at.isoformat(timespec="microseconds")
    for name, value in incoming.items():
        known = current.get(name)
        if known is not None and known["at"] > stamp:
            continue  # an older event arriving late does not overwrite a newer value
        if known is None and len(current) >= MAX_TRAITS:
            continue
        current[name] = {"value": value, "source": source, "at": stamp}
        changed = True
    if changed:
        write_traits(customer, current)
    return changed


def combine_traits(winner: Customer, loser: Customer) -> None:
    """Give the winner every trait of the loser that is newer or missing."""
    mine, theirs = read_traits(winner), read_traits(loser)
    for name, trait in theirs.items():
        if name not in mine or mine[name]["at"] < trait["at"]:
            mine[name] = trait
    write_traits(winner, mine)


def display_name(traits: dict[str, dict[str, Any]]) -> str | None:
    """Return the best name to show for a profile."""
    values = {name: trait["value"] for name, trait in traits.items()}
    full = _full_name(values)
    if full:
        return full
    email = values.get("email")
    return str(email) if email else None


def name_indexes(traits: dict[str, dict[str, Any]]) -> set[str]:
    """Return the blind indexes of the full, first and last names in the traits."""
    values = {name: trait["value"] for name, trait in traits.items()}
    names = {_full_name(values)}
    for spellings in NAME_TRAITS:
        names.update(str(values[s]) for s in spellings if isinstance(values.get(s), str))
    return {name_index(name) for name in names if name and name.strip()}


def _full_name(values: dict[str, Any]) -> str | None:
    if isinstance(values.get("name"), str) and values["name"].strip():
        return str(values["name"]).strip()
    parts = [values.get(s) for spellings in NAME_TRAITS for s in spellings]
    words = [part.strip() for part in parts if isinstance(part, str) and part.strip()]
    return " ".join(words) or None
