"""MedSAM-2 on a CUDA GPU: bf16 frames per second at 512 and 1024, and sanity checks.

    .venv/bin/python bench/medsam2_gpu.py [--frames 40] [--variants tiny,small]

Random weights (no checkpoint needed; $MEDSAM2_CHECKPOINT is used when set):
for each variant and image size, the engine's volume segmentation on a
synthetic volume under bf16 autocast (frames per second, both directions,
peak GPU memory), the image encoder alone, and the agreement of CUDA bf16
masks with fp32 CPU on the key slice. Meant to finish in well under 5 minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "model" / "medsam2")]

from volumes import smooth_volume  # noqa: E402

from model.engines.medsam2 import CHECKPOINT_ENV, MedSAM2Engine  # noqa: E402
from model.medsam2.checkpoint import save_checkpoint  # noqa: E402
from model.medsam2.config import ModelConfig  # noqa: E402
from model.medsam2.frames import image_to_model  # noqa: E402
from model.medsam2.model import MedSAM2Model  # noqa: E402
from model.postprocess import dice  # noqa: E402


def random_checkpoint(variant: str, size: int, folder: Path) -> Path:
    torch.manual_seed(0)
    model = MedSAM2Model(ModelConfig(variant, "2.1", size)).eval()
    with torch.no_grad():
        model.sam_mask_decoder.pred_obj_score_head.layers[-1].bias.fill_(2.0)
    return save_checkpoint(model, folder / f"{variant}-{size}.pt")


def measure(checkpoint: Path, frames: int) -> None:
    engine = MedSAM2Engine(device="cuda", checkpoint=checkpoint)
    size = engine.config.image_size
    volume = smooth_volume(frames, 256, 256, seed=1)
    box = (70.0, 60.0, 180.0, 170.0)
    engine.segment_volume(volume[:4], (1, 1, 1), [(2, box)], modality="MR")  # warm-up
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    result = engine.segment_volume(volume, (1, 1, 1), [(frames // 2, box)], modality="MR")
    torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    visits = frames + 1  # both passes visit the key slice
    image = image_to_model(volume[0], size).cuda()[None]
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
        for _ in range(3):
            engine.model.encode_image(image)
        torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(20):
            engine.model.encode_image(image)
        torch.cuda.synchronize()
    encoder_fps = 20 / (time.perf_counter() - started)
    cpu = MedSAM2Engine(device="cpu", checkpoint=checkpoint)
    gpu_mask = engine.predict_2d(volume[frames // 2], box=box).mask
    cpu_mask = cpu.predict_2d(volume[frames // 2], box=box).mask
    print(f"{engine.config.name:<28} volume {visits / seconds:6.1f} frames/s  encoder "
          f"{encoder_fps:6.1f} frames/s  peak {torch.cuda.max_memory_allocated() / 2**20:7.0f} MiB"
          f"  bf16-vs-fp32-CPU Dice {dice(gpu_mask, cpu_mask):.4f}  "
          f"slices with mask {int(result.mask.any(axis=(1, 2)).sum())}/{frames}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--variants", default="tiny,small")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA device visible")
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    configured = os.environ.get(CHECKPOINT_ENV)
    if configured:
        measure(Path(configured), args.frames)
    with tempfile.TemporaryDirectory() as scratch:
        for variant in args.variants.split(","):
            for size in (512, 1024):
                measure(random_checkpoint(variant, size, Path(scratch)), args.frames)


if __name__ == "__main__":
    main()
