"""MedSAM-2 on a CUDA GPU: bf16 frames per second at 512 and 1024, and sanity checks.

    .venv/bin/python bench/medsam2_gpu.py [--frames 40] [--variants tiny,small] [--smoke]

Random weights (no checkpoint needed; $MEDSAM2_CHECKPOINT is used when set):
for each variant and image size, the engine's volume segmentation on a
synthetic volume under bf16 autocast (frames per second, both directions,
peak GPU memory), the image encoder alone, and the agreement of CUDA bf16
masks with fp32 CPU on the key slice. Meant to finish in well under 5 minutes.
Exits non-zero when the key slice gets no mask or that Dice is under MIN_DICE.

--smoke: the same measurement, tiny: variant tiny at 128 pixels, 3 frames, a few encoder
runs, in seconds; on the GPU when there is one, otherwise on the CPU in fp32 (what the
engine runs there), so it checks the code path on any machine.
"""

from __future__ import annotations

import argparse
import os
import resource
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

MIN_DICE = 0.9  # the device's key-slice mask against fp32 on the CPU


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def peak_mib(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the process, CPU


def random_checkpoint(variant: str, size: int, folder: Path) -> Path:
    torch.manual_seed(0)
    model = MedSAM2Model(ModelConfig(variant, "2.1", size)).eval()
    with torch.no_grad():
        model.sam_mask_decoder.pred_obj_score_head.layers[-1].bias.fill_(2.0)
    return save_checkpoint(model, folder / f"{variant}-{size}.pt")


def measure(checkpoint: Path, frames: int, device: str = "cuda",
            encoder_runs: tuple[int, int] = (3, 20)) -> list[str]:
    """Print one line of figures; return the checks that failed."""
    engine = MedSAM2Engine(device=device, checkpoint=checkpoint)
    size = engine.config.image_size
    volume = smooth_volume(frames, 256, 256, seed=1)
    box = (70.0, 60.0, 180.0, 170.0)
    engine.segment_volume(volume[:4], (1, 1, 1), [(min(2, len(volume[:4]) - 1), box)],
                          modality="MR")  # warm-up
    synchronize(device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    result = engine.segment_volume(volume, (1, 1, 1), [(frames // 2, box)], modality="MR")
    synchronize(device)
    seconds = time.perf_counter() - started
    visits = frames + 1  # both passes visit the key slice
    image = image_to_model(volume[0], size).to(device)[None]
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda"
                else torch.autocast("cpu", enabled=False))
    warm, timed = encoder_runs
    with torch.inference_mode(), autocast:
        for _ in range(warm):
            engine.model.encode_image(image)
        synchronize(device)
        started = time.perf_counter()
        for _ in range(timed):
            engine.model.encode_image(image)
        synchronize(device)
    encoder_fps = timed / (time.perf_counter() - started)
    cpu = MedSAM2Engine(device="cpu", checkpoint=checkpoint)
    device_mask = engine.predict_2d(volume[frames // 2], box=box).mask
    cpu_mask = cpu.predict_2d(volume[frames // 2], box=box).mask
    agreement = dice(device_mask, cpu_mask)
    precision = "bf16" if device == "cuda" else "fp32"
    print(f"{engine.config.name:<28} volume {visits / seconds:6.1f} frames/s  encoder "
          f"{encoder_fps:6.1f} frames/s  peak {peak_mib(device):7.0f} MiB"
          f"  {precision}-{device}-vs-fp32-CPU Dice {agreement:.4f}  "
          f"slices with mask {int(result.mask.any(axis=(1, 2)).sum())}/{frames}")
    failures = []
    if not device_mask.any():
        failures.append(f"{engine.config.name}: no mask on the key slice")
    if agreement < MIN_DICE:
        failures.append(f"{engine.config.name}: {precision} {device} vs fp32 CPU Dice "
                        f"{agreement:.4f} < {MIN_DICE}")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--variants", default="tiny,small")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, seconds; on the CPU (fp32) when there is no GPU")
    args = parser.parse_args()
    sizes, encoder_runs, device = (512, 1024), (3, 20), "cuda"
    if args.smoke:
        args.frames, args.variants, sizes, encoder_runs = 3, "tiny", (128,), (1, 2)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        torch.set_num_threads(min(2, torch.get_num_threads()))
    elif not torch.cuda.is_available():
        sys.exit("no CUDA device visible")
    if device == "cuda":
        print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    else:
        print(f"device: cpu (smoke, fp32), torch {torch.__version__}")
    failures = []
    configured = os.environ.get(CHECKPOINT_ENV)
    if configured and not args.smoke:
        failures += measure(Path(configured), args.frames, device, encoder_runs)
    with tempfile.TemporaryDirectory() as scratch:
        for variant in args.variants.split(","):
            for size in sizes:
                failures += measure(random_checkpoint(variant, size, Path(scratch)),
                                    args.frames, device, encoder_runs)
    if failures:
        sys.exit("; ".join(failures))


if __name__ == "__main__":
    main()
