"""The int8 Hiera trunk for the CPU engine: ONNX Runtime with dynamic int8 MatMul.

Measured on a 2-core CPU at 512 (bench/medsam2_bench.py): torch's dynamic
int8 Linear layers made the trunk slower than fp32 (its (B, H, W, C) Linear
inputs are re-quantized per call), while ONNX Runtime int8 ran it about 2.5x
faster than torch fp32. The rest of the network stays fp32 torch. The ONNX
file is built once per weights and network and cached (model.quantize.cache_dir).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from model.medsam2.config import ModelConfig
from model.medsam2.hiera import Hiera
from model.quantize import cache_dir, quantize_onnx_int8

INT8_FORMAT_VERSION = "1"


class _StagesAsTuple(nn.Module):
    def __init__(self, trunk: Hiera) -> None:
        super().__init__()
        self.trunk = trunk

    def forward(self, images: Tensor) -> tuple[Tensor, ...]:
        return tuple(self.trunk(images))


def build_int8_trunk(trunk: Hiera, config: ModelConfig, weights_sha256: str) -> Path:
    """Path of the cached int8 ONNX trunk for these weights, building it if needed."""
    name = f"medsam2-trunk-{config.name}-{weights_sha256[:16]}-v{INT8_FORMAT_VERSION}-int8.onnx"
    target = cache_dir() / name
    if target.is_file():
        return target
    example = torch.zeros(1, 3, config.image_size, config.image_size)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        fp32_path = Path(scratch) / "trunk.onnx"
        int8_path = Path(scratch) / "trunk-int8.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(_StagesAsTuple(trunk).cpu().eval(), (example,), str(fp32_path),
                              dynamo=False, opset_version=17, input_names=["image"])
        quantize_onnx_int8(fp32_path, int8_path)
        os.replace(int8_path, target)
    return target


class OnnxTrunk(nn.Module):
    """Stands in for the Hiera trunk: (1, 3, S, S) images to its four stage maps."""

    def __init__(self, path: Path, channel_list: list[int], threads: int | None = None) -> None:
        super().__init__()
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        self.path = path
        self.channel_list = channel_list
        self.session = onnxruntime.InferenceSession(str(path), options,
                                                    providers=["CPUExecutionProvider"])

    def forward(self, images: Tensor) -> list[Tensor]:
        outputs = self.session.run(None, {"image": images.cpu().numpy().astype(np.float32)})
        return [torch.from_numpy(output) for output in outputs]
