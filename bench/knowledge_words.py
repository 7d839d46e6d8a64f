"""The keyword half of article search: what a search's BM25 costs over a workspace's
articles, with the part rule (a query word no article holds whole is looked for where it
begins or ends a word) and without it (the baseline, in the same run).

    python bench/knowledge_words.py [--articles 300] [--searches 2000]

The articles are the demo knowledge base's, repeated with numbered words so that none is
another's copy; the queries are the customers' questions of docs/knowledge.md in four
languages: some whose words articles hold whole, some only in parts, some in none.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rapport.knowledge import ranking
from rapport.knowledge.demo import DEMO_ARTICLES
from rapport.knowledge.markdown import plain_text

QUERIES = (
    "how long does shipping take to France",
    "Wie lange dauert der Versand nach Österreich?",
    "Was kostet der Versand?",
    "Welche Größe soll ich nehmen?",
    "¿Cuánto tarda el envío a España?",
    "Acceptez-vous PayPal ?",
    "is my parcel refunded yet",
    "Ich möchte eine Rücksendeetikette",
    "completely unrelated gibberish words here",
)


def articles(count: int) -> list[ranking.Document]:
    documents = []
    for number in range(count):
        sample = DEMO_ARTICLES[number % len(DEMO_ARTICLES)]
        text = f"{plain_text(sample.body)} item{number} reference{number * 7}"
        documents.append(ranking.document(sample.title, text, sample.tags))
    return documents


def timed(documents: list[ranking.Document], searches: int) -> list[float]:
    took = []
    for number in range(searches):
        query = QUERIES[number % len(QUERIES)]
        start = time.perf_counter()
        ranking.keyword_scores(query, documents)
        took.append((time.perf_counter() - start) * 1000)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--searches", type=int, default=2000)
    options = parser.parse_args()
    documents = articles(options.articles)
    timed(documents, 200)  # warm up
    rule = ranking.MIN_PART
    ranking.MIN_PART = 10**6  # no word is that long: the part rule off
    baseline = timed(documents, options.searches)
    ranking.MIN_PART = rule
    with_parts = timed(documents, options.searches)
    for name, took in (("baseline (whole words only)", baseline), ("with parts", with_parts)):
        quantiles = statistics.quantiles(took, n=100)
        print(
            f"{name:28} {options.articles} articles: p50 {quantiles[49]:.3f} ms, "
            f"p95 {quantiles[94]:.3f} ms"
        )
    ratio = statistics.median(with_parts) / statistics.median(baseline)
    print(f"ratio (p50, with parts / baseline): {ratio:.2f}x")


if __name__ == "__main__":
    main()
