"""Custom intents (a workspace's own, a few examples each) on a public benchmark: how many of
their customers' messages they catch and how many other messages they wrongly take, by the
similarity floor and the number of examples, against baselines in the same run; what the
match costs a message, against the embedding the message already paid for; and what the
console's check of 5,000 examples costs.

    python bench/custom_intents.py --clinc150 FILE [--draws 8] [--intents 10]
        [--examples 3,5,10,20] [--thresholds 0.6,0.64,0.68,0.72,0.76]

CLINC150 (Larson et al. 2019, CC-BY-3.0; github.com/clinc/oos-eval, data/data_full.json) has
150 intents with 100 training and 30 test queries each, and 1,000 out-of-scope test queries.
It is not shipped or read by Rapport; fetch it yourself. Each draw takes --intents of the 150
as a shop's own, with --examples training queries of each as its examples (what a shop owner
would type), and scores every test query: those of the drawn intents should take their own
intent ("caught"; taking another drawn intent is "mistaken"), every other query (the other
intents' and the out-of-scope ones: what else customers say) should take none ("wrongly
taken"). Rapport scores with rapport.nlp.examples (the product's own code: the mean of the
cosines to the nearest example and to the centroid). The baselines, on the same MiniLM
vectors: the centroid alone (the usual few-shot prototype) and the nearest example alone.
Floors differ in meaning between them, so they are compared by what each catches at the
same rate of other messages wrongly taken (each one's floor chosen for it, in steps of 0.005).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np
from numpy.typing import NDArray

from rapport.nlp.embeddings import load_embedder
from rapport.nlp.examples import DEFAULT_MIN_SIMILARITY, ExampleIndex, leave_one_out
from rapport.nlp.intents import default_classifier
from rapport.nlp.ports import Embedder, Vectors

OOS = "oos"
Labels = NDArray[np.str_]


@dataclass
class Tally:
    """Counts over every draw at one similarity floor."""

    caught: int = 0
    mistaken: int = 0
    own: int = 0
    taken: int = 0
    other: int = 0

    def line(self) -> str:
        caught, mistaken = 100 * self.caught / self.own, 100 * self.mistaken / self.own
        taken = 100 * self.taken / self.other
        return f"caught {caught:5.1f} %  mistaken {mistaken:4.1f} %  wrongly taken {taken:5.2f} %"


def clinc150(path: Path) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Return CLINC150's training queries by intent and its test rows (out of scope as oos)."""
    data = json.loads(path.read_text())
    training: dict[str, list[str]] = {}
    for text, label in data["train"]:
        training.setdefault(label, []).append(text)
    test = [(text, label) for text, label in data["test"]] + [
        (text, OOS) for text, _ in data["oos_test"]
    ]
    return training, test


def outcomes(scores: Vectors, drawn: list[str], truth: Labels, floor: float) -> Tally:
    """Count one draw's outcomes: `scores` is queries x drawn intents."""
    intents = np.asarray(drawn)
    own = np.isin(truth, intents)
    taken = scores.max(axis=1) >= floor
    right = intents[scores.argmax(axis=1)] == truth
    return Tally(
        caught=int((own & taken & right).sum()),
        mistaken=int((own & taken & ~right).sum()),
        own=int(own.sum()),
        taken=int((~own & taken).sum()),
        other=int((~own).sum()),
    )


def pooled(draws: list[tuple[Vectors, list[str]]], truth: Labels, floor: float) -> Tally:
    """Add up every draw's outcomes at one floor."""
    total = Tally()
    for scores, drawn in draws:
        one = outcomes(scores, drawn, truth, floor)
        for name in ("caught", "mistaken", "own", "taken", "other"):
            setattr(total, name, getattr(total, name) + getattr(one, name))
    return total


def caught_at(draws: list[tuple[Vectors, list[str]]], truth: Labels, rate: float) -> float:
    """Return the share caught at the lowest floor taking at most `rate` of other messages."""
    for floor in np.arange(0.3, 1.0, 0.005):
        tally = pooled(draws, truth, float(floor))
        if tally.taken <= rate * tally.other:
            return tally.caught / tally.own
    return 0.0


def scored(index: ExampleIndex, queries: Vectors) -> dict[str, Vectors]:
    """Return each method's queries x intents scores (intents in `index.intents` order)."""
    cosines = queries @ index.vectors.T
    nearest = np.maximum.reduceat(cosines, index.starts, axis=1)
    centroid = queries @ index.centroids.T
    rapport = np.stack([index.similarities(query) for query in queries])
    return {"Rapport": rapport, "centroid": centroid, "nearest example": nearest}


def quality(
    embedder: Embedder,
    training: dict[str, list[str]],
    test: list[tuple[str, str]],
    arguments: argparse.Namespace,
) -> None:
    started = time.perf_counter()
    queries = _unit(embedder.embed([text for text, _ in test]))
    print(f"embedded {len(test):,} test queries in {time.perf_counter() - started:.1f} s")
    truth = np.asarray([label for _, label in test])
    for per_intent in arguments.examples:
        methods: dict[str, list[tuple[Vectors, list[str]]]] = {}
        draws = random.Random(per_intent)
        for _ in range(arguments.draws):
            drawn = draws.sample(sorted(training), arguments.intents)
            examples = [(intent, text) for intent in drawn
                        for text in draws.sample(training[intent], per_intent)]  # fmt: skip
            vectors = embedder.embed([text for _, text in examples])
            index = ExampleIndex([intent for intent, _ in examples], vectors)
            for method, scores in scored(index, queries).items():
                methods.setdefault(method, []).append((scores, index.intents))
        first = pooled(methods["Rapport"], truth, 0.0)
        print(
            f"\n{arguments.intents} intents with {per_intent} examples each, {arguments.draws} "
            f"draws ({first.own:,} of their queries, {first.other:,} others)"
        )
        for floor in arguments.thresholds:
            mark = "  <- default" if floor == DEFAULT_MIN_SIMILARITY else ""
            print(
                f"  Rapport at {floor:.2f}: {pooled(methods['Rapport'], truth, floor).line()}{mark}"
            )
        print("  caught at other messages wrongly taken <= 0.25 % / 0.5 % / 1 %:")
        caught = {
            method: [caught_at(draws, truth, rate) for rate in (0.0025, 0.005, 0.01)]
            for method, draws in methods.items()
        }
        for method, shares in caught.items():
            print(f"    {method:16s}" + "".join(f"{100 * share:8.1f} %" for share in shares))
        print(
            "  ratio at 0.5 % (Rapport / centroid, Rapport / nearest example): "
            f"{caught['Rapport'][1] / caught['centroid'][1]:.3f}, "
            f"{caught['Rapport'][1] / caught['nearest example'][1]:.3f}"
        )


def _unit(vectors: Vectors) -> Vectors:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def cost(embedder: Embedder, training: dict[str, list[str]], test: list[tuple[str, str]]) -> None:
    """Time one match at the largest a workspace may have (100 intents x 50 examples) against
    embedding the message (which the labels pay anyway); and the check of those examples:
    leave-one-out, and the shipped model's reading of them from their stored vectors against
    the same reading embedding them again."""
    texts = [text for intent in sorted(training)[:100] for text in training[intent][:50]]
    stored = embedder.embed(texts)
    index = ExampleIndex([f"{n // 50:03d}" for n in range(len(texts))], stored)
    messages = [text for text, _ in test[:300]]
    started = time.perf_counter()
    vectors = [embedder.embed([message])[0] for message in messages]
    embedding = (time.perf_counter() - started) / len(messages)
    started = time.perf_counter()
    for vector in vectors:
        index.match(vector)
    matching = (time.perf_counter() - started) / len(messages)
    print(
        f"\nmatch against {len(index):,} examples: {matching * 1e6:.0f} us a message; "
        f"embedding the message: {embedding * 1e3:.2f} ms; ratio {matching / embedding:.3f}"
    )
    started = time.process_time()
    leave_one_out(index)
    left_out = time.process_time() - started
    classifier = default_classifier(embedder)
    started = time.process_time()
    from_stored = classifier.predict(texts, embeddings=stored)
    reading = time.process_time() - started
    started = time.process_time()
    embedded_again = classifier.predict(texts)
    baseline = time.process_time() - started
    assert [p.label for p in from_stored] == [p.label for p in embedded_again]
    print(
        f"check of {len(index):,} examples, CPU: leave-one-out {left_out:.2f} s; the shipped "
        f"model's reading from the stored vectors {reading:.2f} s "
        f"({reading / len(texts) * 1e3:.2f} ms an example), embedding them again (baseline) "
        f"{baseline:.2f} s; ratio {reading / baseline:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clinc150", type=Path, required=True)
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--intents", type=int, default=10)
    parser.add_argument("--examples", default="3,5,10,20")
    parser.add_argument("--thresholds", default="0.6,0.64,0.68,0.72,0.76")
    arguments = parser.parse_args()
    arguments.examples = [int(value) for value in arguments.examples.split(",")]
    arguments.thresholds = [float(value) for value in arguments.thresholds.split(",")]
    embedder = load_embedder(threads=2)
    print(f"embedder: {embedder.name}")
    training, test = clinc150(arguments.clinc150)
    quality(embedder, training, test, arguments)
    cost(load_embedder(threads=1), training, test)


if __name__ == "__main__":
    main()
