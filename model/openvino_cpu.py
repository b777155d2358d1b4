"""LiteMedSAM on OpenVINO's CPU runtime: the int8 image encoder and the mask decoder.

The encoder is exported from our fp32 network to ONNX, then every linear layer's
weight is stored as symmetric per-output-channel int8 behind a DequantizeLinear.
OpenVINO keeps such weights in int8 and runs those layers with int8 arithmetic
on the fly-quantized activations (its dynamic quantization, groups of
`DYNAMIC_GROUP` input channels). The rest of the network (convolutions, norms,
GELU, attention products) runs in bf16 on CPUs that compute bf16 natively
(AVX512-BF16 or AMX) and in fp32 elsewhere; `compute_precision()` says which,
and the engines record it in every result's provenance.

The mask decoder is exported in fp32 and runs in fp32 (its masks match torch's
to ~1e-5 in logits); OpenVINO runs it about 1.5x faster than torch on the CPU.
The fp32 engine's image encoder runs in OpenVINO fp32 on the CPU as well: the same
embedding as torch's to ~2e-6 (relative), about 1.4x faster on a 2-core AVX2 CPU.

Both files are built once per weights and format version into the model cache
(`model.quantize.cache_dir`), written atomically.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from model.quantize import cache_dir, export_onnx

# Bump when an exported graph or the quantization changes.
FORMAT_VERSION = "4"
DYNAMIC_GROUP = 32


def available() -> tuple[bool, str]:
    for module in ("openvino", "onnx"):
        if importlib.util.find_spec(module) is None:
            return False, f"the Python package {module} is not installed"
    return True, ""


def compute_precision() -> str:
    """'bf16' when this CPU computes bf16 natively, else 'f32'."""
    import openvino

    capabilities = openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return "bf16" if "BF16" in capabilities else "f32"


def runtime_version() -> str:
    import openvino

    return openvino.get_version().split("-")[0]


def _folded_constant(name: str, constants: dict, producers: dict) -> np.ndarray | None:
    """The value of `name` when it is an initializer, or a Transpose/Flatten of one."""
    from onnx import helper, numpy_helper

    if name in constants:
        return numpy_helper.to_array(constants[name])
    node = producers.get(name)
    if node is None or node.op_type not in ("Transpose", "Flatten"):
        return None
    value = _folded_constant(node.input[0], constants, producers)
    if value is None:
        return None
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == "Transpose":
        return np.transpose(value, attributes.get("perm"))
    axis = attributes.get("axis", 1)
    return value.reshape(int(np.prod(value.shape[:axis])), -1)


def int8_linear_weights(source: Path, target: Path) -> int:
    """Rewrite an ONNX file so that every MatMul by a constant 2-D weight (an initializer,
    or a transpose/flatten of one) reads it as symmetric per-output-channel int8 through
    DequantizeLinear; returns how many."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    constants = {tensor.name: tensor for tensor in graph.initializer}
    producers = {output: node for node in graph.node for output in node.output}
    nodes, rewritten = [], 0
    for node in graph.node:
        values = None
        if node.op_type == "MatMul":
            values = _folded_constant(node.input[1], constants, producers)
        if values is not None and values.ndim == 2:
            values = values.astype(np.float32)  # (in, out)
            scale = np.abs(values).max(axis=0) / 127.0
            scale[scale == 0] = 1.0
            quantized = np.clip(np.rint(values / scale), -127, 127).astype(np.int8)
            name = f"{node.name.strip('/').replace('/', '.')}.weight_int8"
            graph.initializer.extend([
                numpy_helper.from_array(quantized, name),
                numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale"),
            ])
            nodes.append(helper.make_node(
                "DequantizeLinear", [name, f"{name}_scale"], [f"{name}_dequantized"],
                axis=1, name=f"{name}_dequantize",
            ))
            node.input[1] = f"{name}_dequantized"
            rewritten += 1
        nodes.append(node)
    # Drop what no longer feeds anything: the fp32 weights and their transposes.
    outputs = {output.name for output in graph.output}
    while True:
        used = {name for node in nodes for name in node.input} | outputs
        kept = [node for node in nodes if any(o in used for o in node.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    del graph.node[:]
    graph.node.extend(nodes)
    kept_constants = [tensor for tensor in graph.initializer if tensor.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept_constants)
    onnx.save(model, str(target))
    return rewritten


def _cached(name: str, build: Callable[[Path], None]) -> Path:
    target = cache_dir() / name
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        built = Path(scratch) / name
        build(built)
        os.replace(built, target)
    return target


def build_int8_encoder(encoder: nn.Module, weights_sha256: str, side: int) -> Path:
    """Path of the cached int8-weight ONNX encoder for these weights, building it if needed."""
    linear_layers = sum(isinstance(module, nn.Linear) for module in encoder.modules())

    def build(path: Path) -> None:
        fp32_path = path.with_suffix(".fp32.onnx")
        export_onnx(encoder, fp32_path, side)
        rewritten = int8_linear_weights(fp32_path, path)
        # The neck's 1x1 convolution also runs as a linear layer (TinyViT._neck).
        if rewritten != linear_layers + 1:
            raise RuntimeError(f"{rewritten} linear layers found in the exported encoder, "
                               f"expected {linear_layers + 1}")

    name = f"litemedsam-encoder-{weights_sha256[:16]}-ov{FORMAT_VERSION}-int8.onnx"
    return _cached(name, build)


def build_fp32_encoder(encoder: nn.Module, weights_sha256: str, side: int) -> Path:
    """Path of the cached fp32 ONNX image encoder for these weights, building it if needed."""
    name = f"litemedsam-encoder-{weights_sha256[:16]}-ov{FORMAT_VERSION}-fp32.onnx"
    return _cached(name, lambda path: export_onnx(encoder, path, side))


class _MaskDecoderGraph(nn.Module):
    """(embedding, sparse prompts, dense prompts) -> every output token's masks and IoU."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.mask_decoder = network.mask_decoder
        self.register_buffer("image_pe", network.prompt_encoder.get_dense_pe().detach())

    def forward(self, embedding: Tensor, sparse: Tensor, dense: Tensor) -> tuple[Tensor, Tensor]:
        return self.mask_decoder.predict_masks(embedding, self.image_pe, sparse, dense)


def build_decoder(network: nn.Module, weights_sha256: str) -> Path:
    """Path of the cached fp32 ONNX mask decoder (any number of prompt tokens)."""

    def build(path: Path) -> None:
        graph = _MaskDecoderGraph(network).cpu().eval()
        embedding = torch.zeros(1, 256, 64, 64)
        sparse = torch.zeros(1, 2, 256)
        dense = torch.zeros(1, 256, 64, 64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                graph, (embedding, sparse, dense), str(path), dynamo=False, opset_version=17,
                input_names=["embedding", "sparse", "dense"], output_names=["masks", "iou"],
                dynamic_axes={"sparse": {1: "prompt_tokens"}},
            )

    name = f"litemedsam-decoder-{weights_sha256[:16]}-ov{FORMAT_VERSION}-fp32.onnx"
    return _cached(name, build)


class CompiledModel:
    """An OpenVINO CPU model compiled for latency; call with numpy arrays by input name."""

    def __init__(self, path: Path, threads: int, precision: str) -> None:
        import openvino

        core = openvino.Core()
        self.path = path
        self.precision = precision
        self.compiled = core.compile_model(core.read_model(str(path)), "CPU", {
            "INFERENCE_NUM_THREADS": max(1, threads),
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": precision,
            "DYNAMIC_QUANTIZATION_GROUP_SIZE": DYNAMIC_GROUP,
        })
        self.request = self.compiled.create_infer_request()
        # One infer request, so one call at a time: a worker's job and a live preview
        # (annotations.preview_worker) may call from two threads.
        self._lock = threading.Lock()

    def __call__(self, **inputs: np.ndarray) -> list[np.ndarray]:
        arrays = {name: np.ascontiguousarray(value, dtype=np.float32)
                  for name, value in inputs.items()}
        with self._lock:
            results = self.request.infer(arrays)
            # The request reuses its output buffers: hand out copies.
            return [np.array(results[output]) for output in self.compiled.outputs]


class Int8Encoder:
    """Maps (1, 3, H, W) tensors to embeddings with an OpenVINO encoder (the int8 one, or the
    fp32 one of the fp32 engine)."""

    def __init__(self, path: Path, threads: int, precision: str) -> None:
        self.model = CompiledModel(path, threads, precision)

    def __call__(self, image: Tensor) -> Tensor:
        (embedding,) = self.model(image=image.cpu().numpy())
        return torch.from_numpy(embedding)
