"""int8 building blocks: ONNX export, ONNX Runtime dynamic int8, torch dynamic int8.

Three ways to run LiteMedSAM's image encoder in int8 were measured on the real
weights, side by side (bench/litemedsam_bench.py): torch's dynamic quantization
of Linear layers (no speed-up: the full-resolution convolutions and GELUs
dominate), ONNX Runtime with dynamic int8 MatMul (about 2.2x the reference), and
OpenVINO with int8 linear weights (model/openvino_cpu.py, the engine's choice,
about 3.4x with bf16 elsewhere). Static int8 convolutions (QDQ) were slower and
far less accurate. ONNX Runtime int8 remains the MedSAM-2 CPU engine's runtime
(model/medsam2/int8.py).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

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
