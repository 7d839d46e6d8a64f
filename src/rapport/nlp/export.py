"""Our own int8 export of all-MiniLM-L6-v2: the BERT graph written from the float32 weights
of its safetensors file, then quantised per output channel (dynamic int8 MatMuls).

The ready int8 ONNX we started from keeps its weights as int8 behind DequantizeLinear
nodes; onnxruntime folds those into float32 MatMuls when it loads the graph, so it runs as
a float model (12 ms for one short sentence here). This export's MatMuls stay int8 (VNNI
where the CPU has it): several times faster at the same quality (cosine > 0.99 to float32).

Building it needs the `onnx` package and onnxruntime's quantiser, never torch; the result is
cached on disk and loaded by `rapport.nlp.embeddings` (`python -m rapport.nlp.export` builds
it ahead, as `make setup` does). It is the default, and the shipped heads were trained on its
vectors; RAPPORT_MINILM=ready selects the ready export instead (see docs/assistant.md).
"""

from __future__ import annotations

import json
import logging
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

EXPORT_VERSION = 1
EXPORT_FILE = f"all-minilm-l6-v2-int8-pc-v{EXPORT_VERSION}.onnx"
LAYERS = 6
HEADS = 12
WIDTH = 384
EPSILON = 1e-12


def cache_dir() -> Path:
    """Where built models are kept: $RAPPORT_MODEL_CACHE, else the user's cache folder."""
    configured = os.environ.get("RAPPORT_MODEL_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rapport" / "models"


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read every float32 tensor of a safetensors file."""
    data = path.read_bytes()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + size])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        raw = np.frombuffer(data[8 + size + start : 8 + size + end], dtype=np.float32)
        tensors[name.removeprefix("bert.")] = raw.reshape(info["shape"])
    return tensors


class _Graph:
    """A small builder of ONNX nodes and initializers."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self.numpy_helper.from_array(value, name))
        return name

    def weight(self, name: str, transpose: bool = False) -> str:
        value = self.weights[name]
        return self.constant(name, np.ascontiguousarray(value.T if transpose else value))

    def node(self, op: str, inputs: list[str], **attributes: Any) -> str:
        self._count += 1
        output = f"{op.lower()}_{self._count}"
        self.nodes.append(self.helper.make_node(op, inputs, [output], **attributes))
        return output

    def linear(self, x: str, name: str) -> str:
        product = self.node("MatMul", [x, self.weight(f"{name}.weight", transpose=True)])
        return self.node("Add", [product, self.weight(f"{name}.bias")])

    def layer_norm(self, x: str, name: str) -> str:
        inputs = [x, self.weight(f"{name}.weight"), self.weight(f"{name}.bias")]
        return self.node("LayerNormalization", inputs, axis=-1, epsilon=EPSILON)


def _attention(graph: _Graph, x: str, mask_bias: str, shape: str, prefix: str) -> str:
    """Multi-head self-attention; `shape` is [batch, length, HEADS, head width]."""
    head = WIDTH // HEADS

    def split(name: str) -> str:
        projected = graph.linear(x, f"{prefix}.self.{name}")
        return graph.node(
            "Transpose", [graph.node("Reshape", [projected, shape])], perm=[0, 2, 1, 3]
        )

    query, key, value = split("query"), split("key"), split("value")
    key_t = graph.node("Transpose", [key], perm=[0, 1, 3, 2])
    scores = graph.node("MatMul", [query, key_t])
    scale = graph.constant(f"{prefix}.scale", np.array(1.0 / np.sqrt(head), np.float32))
    scores = graph.node("Add", [graph.node("Mul", [scores, scale]), mask_bias])
    weights = graph.node("Softmax", [scores], axis=-1)
    context = graph.node("Transpose", [graph.node("MatMul", [weights, value])], perm=[0, 2, 1, 3])
    flat = graph.constant(f"{prefix}.flat", np.array([0, 0, WIDTH], np.int64))
    return graph.linear(graph.node("Reshape", [context, flat]), f"{prefix}.output.dense")


def float_model(weights: dict[str, np.ndarray]) -> Any:
    """Return the float32 ONNX graph of MiniLM: input_ids, attention_mask, token_type_ids in,
    last_hidden_state out (the same interface as the ready ONNX export)."""
    from onnx import TensorProto, helper

    graph = _Graph(weights)
    ids, mask, types = "input_ids", "attention_mask", "token_type_ids"
    length = graph.node("Gather", [graph.node("Shape", [ids]), graph.constant("one", np.array(1))])
    positions = graph.node(
        "Range",
        [graph.constant("zero", np.array(0)), length, graph.constant("step", np.array(1))],
    )
    x = graph.node("Gather", [graph.weight("embeddings.word_embeddings.weight"), ids])
    x = graph.node(
        "Add",
        [
            x,
            graph.node(
                "Gather", [graph.weight("embeddings.position_embeddings.weight"), positions]
            ),
        ],
    )
    x = graph.node(
        "Add",
        [x, graph.node("Gather", [graph.weight("embeddings.token_type_embeddings.weight"), types])],
    )
    x = graph.layer_norm(x, "embeddings.LayerNorm")
    # (1 - mask) * -10000 broadcast over heads and query positions.
    mask_float = graph.node("Cast", [mask], to=TensorProto.FLOAT)
    unsqueezed = graph.node(
        "Unsqueeze", [mask_float, graph.constant("mask_axes", np.array([1, 2]))]
    )
    inverted = graph.node("Sub", [graph.constant("one_f", np.array(1.0, np.float32)), unsqueezed])
    mask_bias = graph.node(
        "Mul", [inverted, graph.constant("minus", np.array(-10000.0, np.float32))]
    )
    shape = graph.constant("heads_shape", np.array([0, 0, HEADS, WIDTH // HEADS], np.int64))
    sqrt2 = graph.constant("sqrt2", np.array(np.sqrt(2.0), np.float32))
    half = graph.constant("half", np.array(0.5, np.float32))
    one = graph.constant("one_g", np.array(1.0, np.float32))
    for layer in range(LAYERS):
        prefix = f"encoder.layer.{layer}"
        attended = _attention(graph, x, mask_bias, shape, f"{prefix}.attention")
        x = graph.layer_norm(
            graph.node("Add", [x, attended]), f"{prefix}.attention.output.LayerNorm"
        )
        inner = graph.linear(x, f"{prefix}.intermediate.dense")
        erf = graph.node("Erf", [graph.node("Div", [inner, sqrt2])])
        gelu = graph.node("Mul", [graph.node("Mul", [inner, half]), graph.node("Add", [erf, one])])
        out = graph.linear(gelu, f"{prefix}.output.dense")
        x = graph.layer_norm(graph.node("Add", [x, out]), f"{prefix}.output.LayerNorm")
    graph.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    int_input = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
        for name in (ids, mask, types)
    ]
    output = helper.make_tensor_value_info(
        "last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", WIDTH]
    )
    body = helper.make_graph(graph.nodes, "minilm", int_input, [output], graph.initializers)
    return helper.make_model(body, opset_imports=[helper.make_opsetid("", 17)])


def export(safetensors: Path, destination: Path) -> Path:
    """Write the per-channel int8 model to `destination` (atomically) and return it."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = float_model(read_safetensors(safetensors))
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent) as work:
        float_path = Path(work) / "float.onnx"
        onnx.save(model, str(float_path))
        quantized = Path(work) / "int8.onnx"
        quantize_dynamic(
            float_path, quantized, per_channel=True, weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
        )  # fmt: skip
        os.replace(quantized, destination)
    return destination


def exported_minilm(safetensors: Path, build: bool = True) -> Path | None:
    """Return the cached export, building it first if allowed and `onnx` is installed;
    None when it cannot be had (the caller falls back to the ready int8 ONNX)."""
    destination = cache_dir() / EXPORT_FILE
    if destination.is_file():
        return destination
    if not build or not safetensors.is_file():
        return None
    try:
        import onnx  # noqa: F401 - only needed to build
    except ImportError:
        return None
    logger.info("nlp: building the per-channel int8 MiniLM in %s (once)", destination)
    try:
        return export(safetensors, destination)
    except Exception:  # a failed build must not stop Rapport from starting
        logger.exception("nlp: building the int8 MiniLM failed; using the ready export")
        return None


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.WARNING)  # onnxruntime's quantiser talks at INFO
    logging.getLogger("rapport.nlp.export").setLevel(logging.INFO)  # the module embeddings use
    from rapport.nlp.embeddings import MINILM_ENV, installed_minilm

    found = installed_minilm()
    print(found.onnx if found is not None else "MiniLM is not installed")
    if os.environ.get(MINILM_ENV) != "ready" and (found is None or not found.alone):
        print(
            "warning: our int8 MiniLM could not be built (see above); Rapport will use the "
            "ready int8 package, or hashed n-grams without MiniLM",
            file=sys.stderr,
        )
