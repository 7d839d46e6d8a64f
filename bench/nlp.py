"""Sentence-embedding speed: Rapport's MiniLM (its own per-channel int8 export) against the
same model in float32 numpy and the ready int8 ONNX (which runs as float32), measured in the
same run. Prints sentences/s in batches and one-at-a-time p50/p95.
`python bench/nlp.py sentiment` measures the sentiment analyzer instead (both heads)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from minilm_numpy import NumpyMiniLM
from rapport.nlp.embeddings import OnnxEmbedder, installed_minilm, ready_minilm
from rapport.nlp.sentiment import load_sentiment

SENTENCES = [
    "Where is my order? It was supposed to arrive on Monday.",
    "I want to cancel the order I placed yesterday",
    "How do I reset my password",
    "Can I change the shipping address of order 10452?",
    "The blender arrived broken and I would like a refund please",
    "What are your store hours on Sunday?",
    "do you ship to canada",
    "I was charged twice for the same item, this is unacceptable",
]


def batch_rate(embed: Callable[[Sequence[str]], object], count: int) -> float:
    """Embed `count` sentences in one call and return sentences per second."""
    texts = [SENTENCES[i % len(SENTENCES)] + f" ({i})" for i in range(count)]
    started = time.perf_counter()
    embed(texts)
    return count / (time.perf_counter() - started)


def single_latencies(embed: Callable[[Sequence[str]], object], count: int) -> list[float]:
    """Embed sentences one at a time and return each call's milliseconds."""
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        embed([SENTENCES[i % len(SENTENCES)]])
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def report(name: str, embed: Callable[[Sequence[str]], object], batch: int, singles: int) -> None:
    """Print one line per figure for one embedder."""
    embed(SENTENCES)  # warm up
    print(f"{name} batch sentences/s: {batch_rate(embed, batch):.0f}")
    latencies = single_latencies(embed, singles)
    p95 = float(np.percentile(latencies, 95))
    print(f"{name} one-at-a-time sentences/s: {1000 / statistics.mean(latencies):.0f}")
    print(f"{name} one-at-a-time p50 ms: {statistics.median(latencies):.2f} p95 ms: {p95:.2f}")


def main() -> None:
    """Measure the baseline, then Rapport's embedder, and check they agree."""
    files = installed_minilm()
    assert files is not None, "run make setup: the MiniLM packages are missing"
    baseline = NumpyMiniLM(Path(files.tokenizer).parent)
    rapport = OnnxEmbedder(files, threads=2)
    agreement = (baseline.embed(SENTENCES) * rapport.embed(SENTENCES)).sum(axis=1)
    print(f"cosine int8 vs float32, min over {len(SENTENCES)} sentences: {agreement.min():.4f}")
    report("baseline float32 numpy", baseline.embed, 128, 40)
    ready = ready_minilm()
    if ready is not None and ready.onnx != files.onnx:
        report("ready int8 ONNX onnxruntime", OnnxEmbedder(ready, threads=2).embed, 512, 200)
    report("rapport int8 onnxruntime", rapport.embed, 2048, 400)


def sentiment() -> None:
    """Measure `analyze` (embedding, lexicon, rules, n-grams, head) with and without MiniLM."""
    files = installed_minilm()
    assert files is not None, "run make setup: the MiniLM packages are missing"
    for analyzer in (load_sentiment(OnnxEmbedder(files, threads=2)), load_sentiment(None)):
        report(f"sentiment {analyzer.name}", analyzer.analyze, 2048, 400)


if __name__ == "__main__":
    sentiment() if sys.argv[1:] == ["sentiment"] else main()
