"""Features for the linear heads: a sentence embedding beside hashed word and character n-grams."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from rapport.nlp.ports import Embedder, Vectors

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import HashingVectorizer

NGRAM_FEATURES = 2**16
EMBED_CHUNK = 256
Progress = Callable[[str, int, int], None]


_vectorizers_made: list[HashingVectorizer] = []
_lock = threading.Lock()


def _vectorizers() -> list[HashingVectorizer]:
    # Made on first use: scikit-learn takes a second to load, which every process that
    # merely imports the domains (the CLI, the worker) would otherwise pay. They keep no
    # state between calls, so threads share them.
    with _lock:
        if not _vectorizers_made:
            _vectorizers_made.extend(_new_vectorizers())
        return _vectorizers_made


def _new_vectorizers() -> list[HashingVectorizer]:
    from sklearn.feature_extraction.text import HashingVectorizer

    words = HashingVectorizer(
        n_features=NGRAM_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm=None
    )
    characters = HashingVectorizer(
        n_features=NGRAM_FEATURES,
        analyzer="char_wb",
        ngram_range=(2, 5),
        alternate_sign=False,
        norm=None,
    )
    return [words, characters]


_recent: OrderedDict[str, sparse.csr_matrix] = OrderedDict()
RECENT_TEXTS = 256


def ngram_features(texts: Sequence[str]) -> sparse.csr_matrix:
    """Return sublinear, L2-normalised hashed n-gram counts (words 1-2, characters 2-5).
    One text's row is remembered a while: the intent and sentiment heads both read it."""
    if len(texts) != 1:
        return _ngram_features(texts)
    with _lock:
        found = _recent.get(texts[0])
    if found is None:
        found = _ngram_features(texts)
        with _lock:
            _recent[texts[0]] = found
            while len(_recent) > RECENT_TEXTS:
                _recent.popitem(last=False)
    return found


def _ngram_features(texts: Sequence[str]) -> sparse.csr_matrix:
    blocks = []
    for vectorizer in _vectorizers():
        counts = vectorizer.transform(texts).astype(np.float32)
        counts.data = 1.0 + np.log(counts.data)
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1))).ravel()
        blocks.append(sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ counts)
    return sparse.csr_matrix(sparse.hstack(blocks, format="csr") / np.sqrt(len(blocks)))


def embed_with_progress(
    embedder: Embedder, texts: Sequence[str], progress: Progress | None = None
) -> Vectors:
    """Embed texts in chunks, reporting each chunk to `progress`."""
    parts = []
    for start in range(0, len(texts), EMBED_CHUNK):
        parts.append(embedder.embed(texts[start : start + EMBED_CHUNK]))
        if progress is not None:
            progress("Embedding", min(start + EMBED_CHUNK, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.vstack(parts)


def combine(embeddings: Vectors | None, ngrams: sparse.csr_matrix) -> sparse.csr_matrix:
    """Put the embedding (if any) in front of the n-gram block."""
    if embeddings is None:
        return ngrams
    return sparse.csr_matrix(sparse.hstack([sparse.csr_matrix(embeddings), ngrams], format="csr"))
