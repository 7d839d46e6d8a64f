"""The knowledge base's embedder: loaded once per process, run in a thread, never inside a
unit of work that writes (callers embed before their first statement)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np

from rapport.nlp.embeddings import shared_embedder
from rapport.nlp.ports import Embedder, Vectors

_lock = threading.Lock()
_embedder: Embedder | None = None


def embedder() -> Embedder:
    """Return this process's embedder, loading MiniLM (or its fallback) on first use."""
    global _embedder
    with _lock:
        if _embedder is None:
            _embedder = shared_embedder()
        return _embedder


def use_embedder(replacement: Embedder | None) -> None:
    """Replace the embedder (tests); None loads the real one again on next use."""
    global _embedder
    with _lock:
        _embedder = replacement


async def embed(texts: Sequence[str]) -> tuple[Vectors, str]:
    """Embed texts in a worker thread; return the vectors and the model's name. Texts the
    shared embedder remembers (a message the assistant just labelled) take no model run
    and no thread."""
    # Loading the model (the first time) reads and may build files: not on the event loop.
    model = _embedder if _embedder is not None else await asyncio.to_thread(embedder)
    remembered = getattr(model, "remembered", None)
    if remembered is not None:
        found = remembered(list(texts))
        if found is not None:
            return found, model.name

    def run() -> tuple[Vectors, str]:
        model = embedder()
        return model.embed(list(texts)), model.name

    return await asyncio.to_thread(run)


def article_text(title: str, plain_body: str) -> str:
    """Return what an article's embedding is made of: its title, then its text."""
    return f"{title}. {plain_body}"


def to_bytes(vector: Vectors) -> bytes:
    """Pack a vector for the database (float32, little-endian)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> Vectors:
    """Unpack a vector stored by `to_bytes`."""
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
