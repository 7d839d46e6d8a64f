"""Traits: last write wins by event time, each value remembering its source and time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rapport.customers.models import Customer
from rapport.customers.pii import name_index, seal_json, unseal_json

NAME_TRAITS = (("first_name", "firstName"), ("last_name", "lastName"))
MAX_TRAITS = 200
# {"trait": {"before": the winner's trait or None, "taken": the loser's trait}}
TraitChanges = dict[str, dict[str, Any]]


def read_traits(customer: Customer) -> dict[str, dict[str, Any]]:
    """Return a profile's traits with their source and time."""
    return unseal_json(customer.traits, "customers", "traits", customer.id)


def write_traits(customer: Customer, traits: dict[str, dict[str, Any]]) -> None:
    """Seal and store a profile's traits."""
    customer.traits = seal_json(traits, "customers", "traits", customer.id)


def apply_traits(customer: Customer, incoming: dict[str, Any], source: str, at: datetime) -> bool:
    """Write the traits newer than what the profile holds; tell whether any changed."""
    sealed = merged_traits(customer.id, customer.traits, incoming, source, at)
    if sealed is not None:
        customer.traits = sealed
    return sealed is not None


def merged_traits(
    customer_id: str, traits: bytes | None, incoming: dict[str, Any], source: str, at: datetime
) -> bytes | None:
    """Return a profile's sealed traits with the incoming ones newer than what it holds
    written in (None when none is: nothing to store). `apply_traits` without the profile."""
    current = unseal_json(traits, "customers", "traits", customer_id)
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
    return seal_json(current, "customers", "traits", customer_id) if changed else None


def combine_traits(winner: Customer, loser: Customer) -> TraitChanges:
    """Give the winner every trait of the loser that is newer or missing; return what changed
    (each trait's previous value and the one taken) so an undo can restore it."""
    mine, theirs = read_traits(winner), read_traits(loser)
    changes: TraitChanges = {}
    for name, trait in theirs.items():
        if name not in mine or mine[name]["at"] < trait["at"]:
            changes[name] = {"before": mine.get(name), "taken": trait}
            mine[name] = trait
    write_traits(winner, mine)
    return changes


def restore_traits(
    winner: Customer, changes: TraitChanges, undone_earlier: list[TraitChanges]
) -> list[str]:
    """Give the winner back the traits a merge replaced, unless written again since (a later
    event of its own wins); return the names restored. A value that itself came from a merge
    undone earlier (`undone_earlier`) is followed back to what the winner had before that."""
    mine = read_traits(winner)
    restored = []
    for name, change in sorted(changes.items()):
        if mine.get(name) != change["taken"]:
            continue  # rewritten after the merge: last write wins
        before = _own_value(name, change["before"], undone_earlier)
        if before is None:
            mine.pop(name)
        else:
            mine[name] = before
        restored.append(name)
    if restored:
        write_traits(winner, mine)
    return restored


def _own_value(
    name: str, value: dict[str, Any] | None, undone_earlier: list[TraitChanges]
) -> dict[str, Any] | None:
    for _ in range(len(undone_earlier) + 1):
        earlier = next(
            (c[name] for c in undone_earlier if name in c and c[name]["taken"] == value), None
        )
        if value is None or earlier is None:
            return value
        value = earlier["before"]
    return value


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
