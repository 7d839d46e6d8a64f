"""Our int8 export of MiniLM: close to the float32 graph it is built from, its MatMuls int8,
each text's vector independent of its batch; the shared embedder remembers recent texts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rapport.nlp.embeddings import (
    MINILM_ENV,
    MINILM_NAME,
    ModelFiles,
    OnnxEmbedder,
    RememberingEmbedder,
    installed_minilm,
    ready_minilm,
)
from rapport.nlp.export import float_model, read_safetensors
from rapport.nlp.fakes import FakeEmbedder
from rapport.nlp.ports import Vectors

SENTENCES = [
    "Where is my order? It was supposed to arrive on Monday.",
    "I want to cancel the order I placed yesterday",
    "do you ship to canada",
    "Können Sie mir helfen? Meine Bestellung ist nicht angekommen",
]


@pytest.fixture(scope="module")
def files() -> ModelFiles:
    found = installed_minilm()
    if found is None:
        pytest.skip("MiniLM is not installed")
    return found


def test_our_export_is_the_default_and_the_ready_one_can_be_chosen(
    files: ModelFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = ready_minilm()
    assert files.alone and ready is not None and files.onnx != ready.onnx
    monkeypatch.setenv(MINILM_ENV, "ready")
    assert installed_minilm() == ready


def test_without_our_export_the_ready_one_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_MODEL_CACHE", str(tmp_path))  # nothing built there
    assert installed_minilm(build=False) == ready_minilm()


def test_the_export_agrees_with_the_float_graph_and_runs_int8(
    files: ModelFiles, tmp_path: Path
) -> None:
    import onnx

    ready = ready_minilm()
    assert ready is not None
    float_path = tmp_path / "float.onnx"
    onnx.save(
        float_model(read_safetensors(ready.tokenizer.parent / "model.safetensors")), str(float_path)
    )
    reference = OnnxEmbedder(ModelFiles(float_path, files.tokenizer)).embed(SENTENCES)
    exported = OnnxEmbedder(files)
    assert exported.name == MINILM_NAME
    assert (reference * exported.embed(SENTENCES)).sum(axis=1).min() > 0.97
    ops = {node.op_type for node in onnx.load(str(files.onnx)).graph.node}
    assert "MatMulInteger" in ops or "DynamicQuantizeMatMul" in ops


def test_a_texts_vector_does_not_depend_on_its_batch(files: ModelFiles) -> None:
    embedder = OnnxEmbedder(files)
    alone = embedder.embed([SENTENCES[2]])[0]
    batched = embedder.embed([SENTENCES[0], SENTENCES[2], SENTENCES[3]])[1]
    assert np.array_equal(alone, batched)


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, recording what it was asked to embed."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed and record."""
        self.asked.append(list(texts))
        return super().embed(texts)


def test_the_shared_embedder_embeds_only_texts_it_does_not_remember() -> None:
    inner = CountingEmbedder()
    embedder = RememberingEmbedder(inner, size=2)
    assert embedder.remembered(["a"]) is None
    first = embedder.embed(["a", "b"])
    both = embedder.embed(["b", "c", "a"])
    assert inner.asked == [["a", "b"], ["c"]]
    assert np.array_equal(both[[2, 0]], first)
    found = embedder.remembered(["c", "a"])  # size 2: "b" was forgotten first
    assert found is not None and np.array_equal(found, both[[1, 2]])
    assert embedder.remembered(["b"]) is None
