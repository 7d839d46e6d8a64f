"""MiniLM on onnxruntime gives sensible neighbours; Rapport falls back when it is absent."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from rapport.nlp.embeddings import (
    HASHING_NAME,
    MINILM_NAME,
    BatchingEmbedder,
    HashingEmbedder,
    ModelFiles,
    OnnxEmbedder,
    batching,
    installed_minilm,
    load_embedder,
    ready_minilm,
)
from rapport.nlp.ports import Embedder, Vectors


def test_minilm_puts_paraphrases_closer_than_unrelated_text(minilm: Embedder) -> None:
    vectors = minilm.embed(["Where is my order?", "Track my package", "Tell me a joke"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_minilm_gives_the_same_vector_alone_and_in_a_batch(minilm: Embedder) -> None:
    alone = minilm.embed(["cancel my order"])
    batched = minilm.embed(["a much longer sentence about shipping and returns", "cancel my order"])
    assert np.allclose(alone[0], batched[1], atol=1e-4)


@pytest.mark.parametrize("files", [installed_minilm(), ready_minilm()], ids=["ours", "ready"])
def test_texts_embedded_on_two_threads_get_the_vectors_one_thread_gives(
    files: ModelFiles | None,
) -> None:
    assert files is not None
    texts = [
        f"order {number} has not arrived, where is it?" * (number % 3 + 1) for number in range(80)
    ]
    one, two = OnnxEmbedder(files, threads=1), OnnxEmbedder(files, threads=2)
    assert two.threads == 2
    np.testing.assert_array_equal(two.embed(texts), one.embed(texts))


def test_installed_model_is_minilm() -> None:
    assert load_embedder().name == MINILM_NAME


def test_an_export_that_will_not_load_falls_back_to_the_ready_package(tmp_path: Path) -> None:
    ready = ready_minilm()
    if ready is None:
        pytest.skip("MiniLM is not installed")
    broken = tmp_path / "export.onnx"
    broken.write_bytes(b"not an onnx graph")  # a cached file cut short, say
    embedder = load_embedder(ModelFiles(broken, ready.tokenizer, alone=True))
    assert isinstance(embedder, OnnxEmbedder) and embedder.name == MINILM_NAME
    assert embedder.batch_size > 1  # the ready package's graph: it batches


def test_missing_model_files_fall_back_to_hashed_ngrams(tmp_path: Path) -> None:
    absent = ModelFiles(tmp_path / "model.onnx", tmp_path / "tokenizer.json")
    embedder = load_embedder(absent)
    assert embedder.name == HASHING_NAME
    assert embedder.embed(["where is my order"]).shape == (1, 1024)


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    first = HashingEmbedder().embed(["Refund please", ""])
    assert np.array_equal(first, HashingEmbedder().embed(["Refund please", ""]))
    assert np.allclose(np.linalg.norm(first, axis=1), [1.0, 0.0])


class SlowEmbedder:
    """Hashed n-grams, slowly, counting its calls and their sizes (a stand-in for a model
    whose run releases the GIL)."""

    name = HASHING_NAME
    dimension = 1024

    def __init__(self, fail_on: str | None = None) -> None:
        self.sizes: list[int] = []
        self.fail_on = fail_on

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.sizes.append(len(texts))
        time.sleep(0.05)
        if self.fail_on in texts:
            raise RuntimeError("model failed")
        return HashingEmbedder().embed(texts)


def test_concurrent_callers_share_model_calls_and_each_gets_its_own_vectors() -> None:
    inner = SlowEmbedder()
    embedder = BatchingEmbedder(inner, max_batch=8)
    texts = [f"where is my order {number}" for number in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        vectors = list(pool.map(lambda text: embedder.embed([text]), texts))
    expected = HashingEmbedder().embed(texts)
    for number, vector in enumerate(vectors):
        assert np.array_equal(vector[0], expected[number])
    assert sum(inner.sizes) == 12
    assert max(inner.sizes) <= 8
    assert len(inner.sizes) < 12  # some calls carried several callers' texts
    assert embedder.texts == 12


def test_a_lone_caller_and_a_large_call_run_at_once() -> None:
    inner = SlowEmbedder()
    embedder = BatchingEmbedder(inner, max_batch=4)
    embedder.embed(["one"])
    embedder.embed([f"text {number}" for number in range(10)])
    assert inner.sizes == [1, 10]


def test_a_failed_batch_fails_its_callers_and_the_next_ones_still_run() -> None:
    inner = SlowEmbedder(fail_on="bad")
    embedder = BatchingEmbedder(inner, max_batch=8)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(embedder.embed, ["bad"])
        time.sleep(0.01)
        second = pool.submit(embedder.embed, ["fine"])
        with pytest.raises(RuntimeError):
            first.result()
        assert second.result().shape == (1, 1024)  # it ran in a later call
    assert embedder.embed(["still fine"]).shape == (1, 1024)


def test_the_shared_minilm_batches_unless_its_vectors_depend_on_the_batch() -> None:
    ready = ready_minilm()
    assert ready is not None and not ready.alone
    assert isinstance(batching(OnnxEmbedder(ready)), BatchingEmbedder)
    assert not isinstance(batching(HashingEmbedder()), BatchingEmbedder)
    # Our export (the default) scales its int8 activations per call: every text runs alone.
    files = installed_minilm()
    assert files is not None and files.alone
    alone = OnnxEmbedder(files)
    assert batching(alone) is alone
