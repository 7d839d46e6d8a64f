"""Features for the linear heads: a sentence embedding beside hashed word and character n-grams."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
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
    """Each vectorizer's counts made sublinear and L2-normalised (float32), side by side,
    times 1/sqrt(2) (float64). One text's row (a message being labelled) is put together from
    the arrays: scipy's stacking and checks cost about a millisecond a message."""
    blocks = [_sublinear_normalised(vectorizer.transform(texts)) for vectorizer in _vectorizers()]
    scale = 1.0 / np.sqrt(len(blocks))
    if len(texts) != 1:
        return sparse.csr_matrix(sparse.hstack(blocks, format="csr") * scale)
    data = np.concatenate([block.data for block in blocks]).astype(np.float64) * scale
    indices = np.concatenate(
        [block.indices + number * NGRAM_FEATURES for number, block in enumerate(blocks)]
    ).astype(np.int32)
    indptr = np.array([0, len(data)], dtype=np.int32)
    return sparse.csr_matrix((data, indices, indptr), shape=(1, len(blocks) * NGRAM_FEATURES))


def _sublinear_normalised(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """Return 1 + log(count) per stored value, each row scaled to unit length, in float32, the
    columns of each row in ascending order. Computed on the arrays: a diagonal matrix product
    did it before at about four times the CPU, with the same values (the features of 738 Bitext
    and edge-case texts compared equal, bit for bit)."""
    counts = sparse.csr_matrix(counts)
    values = 1.0 + np.log(counts.data.astype(np.float32))
    lengths = np.diff(counts.indptr)
    squares = np.zeros(counts.shape[0], dtype=np.float32)
    filled = lengths > 0
    if values.size:
        squares[filled] = np.add.reduceat(values * values, counts.indptr[:-1][filled])
    row_scale = (1.0 / np.maximum(np.sqrt(squares), 1e-12)).astype(np.float32)
    block = sparse.csr_matrix(
        (values * np.repeat(row_scale, lengths), counts.indices, counts.indptr),
        shape=counts.shape,
    )
    block.sort_indices()
    return block


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


def sparse_dot(features: sparse.csr_matrix, weights: NDArray[np.float32]) -> NDArray[np.float64]:
    """Return `features @ weights` (a head's logits or scores) reading only the weight rows the
    texts use. The product itself would first convert the whole weight matrix to the features'
    float64 (131,000 rows: a 28 MB copy and about 5 ms of CPU per call, more under load); the
    rows read and the sums are the same, so the result is too. A large batch (more stored
    values than weight rows) takes the plain product."""
    features = sparse.csr_matrix(features)
    if features.nnz > weights.shape[0]:
        return np.asarray(features @ weights)
    rows = weights[features.indices].astype(np.result_type(features.dtype, weights.dtype))
    packed = sparse.csr_matrix(
        (features.data, np.arange(features.nnz), features.indptr),
        shape=(features.shape[0], features.nnz),
    )
    return np.asarray(packed @ rows)


def combine(embeddings: Vectors | None, ngrams: sparse.csr_matrix) -> sparse.csr_matrix:
    """Put the embedding (if any) in front of the n-gram block."""
    if embeddings is None:
        return ngrams
    return beside(embeddings, ngrams)


def beside(dense: NDArray[np.floating], rows: sparse.csr_matrix) -> sparse.csr_matrix:
    """Return `sparse.hstack([csr_matrix(dense), rows], format="csr")`: the dense block's
    non-zero values, then the sparse block's, in a common dtype. One row (a message being
    labelled) is built straight from the arrays: scipy's stacking checks and copies cost
    about a millisecond a call, more than the product that follows."""
    rows = sparse.csr_matrix(rows)
    if dense.shape[0] != 1 or rows.shape[0] != 1:
        return sparse.csr_matrix(sparse.hstack([sparse.csr_matrix(dense), rows], format="csr"))
    dtype = np.result_type(dense.dtype, rows.dtype)
    columns = np.flatnonzero(dense[0])
    width = dense.shape[1]
    data = np.concatenate([dense[0, columns].astype(dtype), rows.data.astype(dtype)])
    indices = np.concatenate([columns, rows.indices + width]).astype(np.int32)
    indptr = np.array([0, len(data)], dtype=np.int32)
    return sparse.csr_matrix((data, indices, indptr), shape=(1, width + rows.shape[1]))
