"""MiniLM on onnxruntime gives sensible neighbours; Rapport falls back when it is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rapport.nlp.embeddings import (
    HASHING_NAME,
    MINILM_NAME,
    HashingEmbedder,
    ModelFiles,
    load_embedder,
)
from rapport.nlp.ports import Embedder


def test_minilm_puts_paraphrases_closer_than_unrelated_text(minilm: Embedder) -> None:
    vectors = minilm.embed(["Where is my order?", "Track my package", "Tell me a joke"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_minilm_gives_the_same_vector_alone_and_in_a_batch(minilm: Embedder) -> None:
    alone = minilm.embed(["cancel my order"])
    batched = minilm.embed(["a much longer sentence about shipping and returns", "cancel my order"])
    assert np.allclose(alone[0], batched[1], atol=1e-4)


def test_installed_model_is_minilm() -> None:
    assert load_embedder().name == MINILM_NAME


def test_missing_model_files_fall_back_to_hashed_ngrams(tmp_path: Path) -> None:
    absent = ModelFiles(tmp_path / "model.onnx", tmp_path / "tokenizer.json")
    embedder = load_embedder(absent)
    assert embedder.name == HASHING_NAME
    assert embedder.embed(["where is my order"]).shape == (1, 1024)


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    first = HashingEmbedder().embed(["Refund please", ""])
    assert np.array_equal(first, HashingEmbedder().embed(["Refund please", ""]))
    assert np.allclose(np.linalg.norm(first, axis=1), [1.0, 0.0])
