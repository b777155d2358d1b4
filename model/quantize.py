"""int8 variants of the LiteMedSAM image encoder.

Two ways were measured on the real weights (bench/litemedsam_bench.py):
torch's dynamic quantization of Linear layers, and ONNX Runtime with dynamic
int8 MatMul. The engine uses ONNX Runtime: torch's variant gave no speed-up
on this encoder (its convolutions and GELUs at full resolution dominate),
while ONNX Runtime runs the whole graph faster and its int8 MatMul on top.
Convolutions stay fp32: int8 convolutions were slower and far less accurate.

The int8 model is built once from our fp32 network and kept in a cache folder
keyed by the weights' sha256 and the format version below.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

# Bump when the exported graph or the quantization settings change.
INT8_FORMAT_VERSION = "1"
CACHE_ENV = "MEDSAM_MODEL_CACHE"


def cache_dir() -> Path:
    """Folder for derived model files ($MEDSAM_MODEL_CACHE or ~/.cache/medsam-annotate)."""
    configured = os.environ.get(CACHE_ENV)
    base = Path(configured) if configured else Path.home() / ".cache" / "medsam-annotate"
    base.mkdir(parents=True, exist_ok=True)
    return base


def torch_dynamic_int8(module: nn.Module) -> nn.Module:
    """A copy of `module` with every Linear layer in dynamic int8 (torch.ao)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(module, {nn.Linear}, dtype=torch.qint8)


def export_onnx(encoder: nn.Module, path: Path, side: int) -> None:
    """Export an image encoder taking (1, 3, side, side) to ONNX."""
    example = torch.zeros(1, 3, side, side)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            encoder.cpu().eval(), (example,), str(path), dynamo=False, opset_version=17,
            input_names=["image"], output_names=["embedding"],
        )


def quantize_onnx_int8(fp32_path: Path, int8_path: Path) -> None:
    """Dynamic int8 quantization of the MatMul/Gemm weights of an ONNX model."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(fp32_path), str(int8_path), weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Gemm"], per_channel=True,
        )
    finally:
        quiet.setLevel(level)


def build_int8_onnx(encoder: nn.Module, weights_sha256: str, side: int) -> Path:
    """Path of the cached int8 ONNX encoder for these weights, building it if needed."""
    name = f"litemedsam-encoder-{weights_sha256[:16]}-v{INT8_FORMAT_VERSION}-int8.onnx"
    target = cache_dir() / name
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        fp32_path = Path(scratch) / "encoder.onnx"
        int8_path = Path(scratch) / "encoder-int8.onnx"
        export_onnx(encoder, fp32_path, side)
        quantize_onnx_int8(fp32_path, int8_path)
        os.replace(int8_path, target)
    return target


class OnnxEncoder:
    """An ONNX Runtime session that maps (1, 3, H, W) tensors to embeddings."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.path = path
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        (embedding,) = self.session.run(None, {"image": image.cpu().numpy().astype(np.float32)})
        return torch.from_numpy(embedding)
