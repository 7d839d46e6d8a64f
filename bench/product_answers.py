"""Product questions answered from fact sheets: how often the right fact answers, how often a
question the sheet cannot answer gets a fact anyway, and what an answer costs, against a
baseline in the same run that matches lines by shared words only (no MiniLM).

    python bench/product_answers.py

Two sets (bench/data/SOURCE.md): 43 questions about the demo shop's sheets, on which the
rule for a line's meaning was chosen, and 34 held-out questions about three other products.
Each set's sheets are written through the product's service into a fresh SQLite database,
and each question is asked through `product_sheets.answer`, as the assistant asks it.
"""

from __future__ import annotations

import asyncio
import csv
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rapport.core.db import Database
from rapport.db.migrate import upgrade
from rapport.identity.audit import SYSTEM
from rapport.identity.service import workspaces
from rapport.knowledge import product_search
from rapport.knowledge.demo import DEMO_PRODUCTS
from rapport.knowledge.products import product_sheets
from rapport.knowledge.schemas import Fact, ProductSheetWrite

DATA = Path(__file__).resolve().parent / "data"
Sheets = list[tuple[str, ProductSheetWrite]]


@dataclass
class Tally:
    answerable: int = 0
    right: int = 0
    wrong_fact: int = 0
    missed: int = 0
    unanswerable: int = 0
    declined: int = 0


def demo_sheets() -> Sheets:
    return [(key, sheet) for key, locale, sheet in DEMO_PRODUCTS if locale == "en"]


def heldout_sheets() -> Sheets:
    rows = json.loads((DATA / "product_sheets_heldout.json").read_text())
    return [
        (
            row["key"],
            ProductSheetWrite(
                name=row["name"],
                description=row["description"],
                facts=[Fact(name=name, value=value) for name, value in row["facts"]],
            ),
        )
        for row in rows
    ]


def questions(name: str) -> list[tuple[str, str, str]]:
    with (DATA / name).open(newline="") as handle:
        return [(row[0], row[1], row[2]) for row in csv.reader(handle, delimiter="\t")]


@contextmanager
def words_only() -> Iterator[None]:
    """The baseline: no language may answer from a line's meaning."""
    kept = product_search.SEMANTIC_LANGUAGES
    product_search.SEMANTIC_LANGUAGES = frozenset()
    try:
        yield
    finally:
        product_search.SEMANTIC_LANGUAGES = kept


def answered_by(hit_facts: list[Fact], snippet: str) -> str:
    return hit_facts[0].name if hit_facts else "description" if snippet else "-"


async def run_set(
    database: Database, label: str, sheets: Sheets, asked: list[tuple[str, str, str]]
) -> dict[str, tuple[Tally, list[float]]]:
    async with database.session() as session:
        workspace = await workspaces.create(session, slug=label, name=label, actor=SYSTEM)
    for key, sheet in sheets:
        async with database.session() as session:
            await product_sheets.put(session, workspace.id, key, "en", sheet, author="system")
    async with database.session() as session:  # the model loads outside the timings
        await product_sheets.answer(session, workspace.id, asked[0][1])
    results: dict[str, tuple[Tally, list[float]]] = {}
    for variant in ("Rapport (words and MiniLM)", "baseline (words only)"):
        tally, timings = Tally(), []
        for _key, question, wanted in asked:
            started = time.perf_counter()
            if variant.startswith("baseline"):
                with words_only():
                    async with database.session() as session:
                        hits = await product_sheets.answer(session, workspace.id, question)
            else:
                async with database.session() as session:
                    hits = await product_sheets.answer(session, workspace.id, question)
            timings.append((time.perf_counter() - started) * 1000)
            got = answered_by(hits[0].facts, hits[0].snippet) if hits else "-"
            if wanted == "-":
                tally.unanswerable += 1
                tally.declined += got == "-"
            else:
                tally.answerable += 1
                tally.right += got == wanted
                tally.missed += got == "-"
                tally.wrong_fact += got not in ("-", wanted)
        results[variant] = (tally, timings)
    return results


def report(label: str, results: dict[str, tuple[Tally, list[float]]]) -> None:
    print(f"\n{label}")
    print(
        f"{'':28} {'right fact':>12} {'wrong fact':>11} {'none':>6} {'declined':>10} {'ms p50':>7}"
    )
    for variant, (tally, timings) in results.items():
        print(
            f"{variant:28} {tally.right:>5}/{tally.answerable:<6} {tally.wrong_fact:>11} "
            f"{tally.missed:>6} {tally.declined:>4}/{tally.unanswerable:<5} "
            f"{statistics.median(timings):>7.1f}"
        )
    ours, base = (results[v][0] for v in results)
    ratio = ours.right / base.right if base.right else float("inf")
    print(f"right facts: {ratio:.2f}x the baseline's")


async def main(url: str) -> None:
    database = Database(url)
    sets = [
        ("demo sheets (the rule was chosen on these)", demo_sheets(), "product_questions_demo.tsv"),
        ("held-out sheets", heldout_sheets(), "product_questions_heldout.tsv"),
    ]
    try:
        for number, (label, sheets, name) in enumerate(sets):
            report(label, await run_set(database, f"set-{number}", sheets, questions(name)))
    finally:
        await database.dispose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite+aiosqlite:///{directory}/bench.db"
        upgrade(database_url)
        asyncio.run(main(database_url))
