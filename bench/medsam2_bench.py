"""MedSAM-2 on the CPU: ours vs the official SAM 2 code, and int8 vs fp32, in one run.

    .venv/bin/python bench/medsam2_bench.py [--size 512] [--frames 8] [--rounds 3] [--threads 2]
        [--smoke]

Same seeded random weights (SAM 2.1 hiera-tiny, object score biased positive),
same frames: a box on the middle slice, propagation forward through the
volume. Each variant runs in its own process (so peak memory is its own),
rounds interleaved so load on a shared machine hits them alike; medians over
rounds. Reported per variant: image encoder per frame, tracked frame end to
end (encoder + memory attention + decoder + memory encoder), peak resident
memory of the process; then the int8 engine's masks against fp32 (Dice).
Needs the oracle (sam2==1.1.0, hydra-core, iopath) installed.

--smoke: 128 pixels, 3 frames, one round (seconds), the same processes and figures; exits
non-zero when ours (fp32) departs from the oracle (mask Dice under SMOKE_MIN_DICE on a frame)
or a variant's masks are all empty.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "model" / "medsam2")]

from model.postprocess import dice  # noqa: E402

VARIANTS = ("oracle", "ours", "ours-int8")
SMOKE_MIN_DICE = 0.95  # ours fp32 against the oracle, same weights: the masks should agree


def frames(size: int, count: int) -> tuple[torch.Tensor, np.ndarray]:
    from volumes import smooth_volume

    from model.medsam2.frames import image_to_model

    volume = smooth_volume(count, size, size, seed=1)
    return torch.stack([image_to_model(p, size) for p in volume]), volume


def make_weights(size: int, path: Path) -> None:
    from oracle import build_oracle, randomise

    reference = build_oracle("2.1", size)
    randomise(reference, seed=3)
    torch.save({"model": reference.state_dict()}, path)
    path.with_suffix(".json").write_text(json.dumps(
        {"variant": "tiny", "version": "2.1", "image_size": size}))


def worker(variant: str, weights: Path, size: int, count: int) -> dict:
    stack, _ = frames(size, count)
    key = count // 2
    box = np.array([0.3 * size, 0.25 * size, 0.7 * size, 0.65 * size], np.float32)
    encode_times, track_times = [], []
    if variant == "oracle":
        from oracle import build_oracle, oracle_video_state

        model = build_oracle("2.1", size, video=True)
        model.load_state_dict(torch.load(weights, weights_only=True)["model"])
        with torch.inference_mode():
            for index in range(count):
                started = time.perf_counter()
                model.forward_image(stack[index : index + 1])
                encode_times.append(time.perf_counter() - started)
            state = oracle_video_state(model, stack, size, size)
            model.add_new_points_or_box(state, frame_idx=key, obj_id=1, box=box)
            started = time.perf_counter()
            masks = {}
            for frame, _, logits in model.propagate_in_video(state):
                now = time.perf_counter()
                if frame != key:
                    track_times.append(now - started)
                masks[frame] = logits[0, 0] > 0
                started = time.perf_counter()
    else:
        from model.engines.medsam2 import MedSAM2Engine, MedSAM2Int8Engine
        from model.medsam2.video import VolumePredictor

        engine_class = MedSAM2Int8Engine if variant == "ours-int8" else MedSAM2Engine
        model = engine_class(device="cpu", checkpoint=weights).model
        with torch.inference_mode():
            for index in range(count):
                started = time.perf_counter()
                model.encode_image(stack[index : index + 1])
                encode_times.append(time.perf_counter() - started)
            predictor = VolumePredictor(model, stack, (size, size), fill_hole_area=0)
            predictor.add_prompt(key, box=tuple(box))
            started = time.perf_counter()
            masks = {}
            for frame, logits, _ in predictor.propagate():
                now = time.perf_counter()
                if frame != key:
                    track_times.append(now - started)
                masks[frame] = logits > 0
                started = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"encode": statistics.median(encode_times), "track": statistics.median(track_times),
            "peak_mb": peak_mb,
            "masks": {str(f): m.numpy().astype(np.uint8).tolist() for f, m in masks.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--weights", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    args = parser.parse_args()
    if args.smoke and not args.worker:
        args.size, args.frames, args.rounds = 128, 3, 1
    torch.set_num_threads(args.threads)
    if args.worker:
        print(json.dumps(worker(args.worker, args.weights, args.size, args.frames)))
        return

    with tempfile.TemporaryDirectory() as scratch:
        weights = Path(scratch) / "bench.pt"
        make_weights(args.size, weights)
        results: dict[str, list[dict]] = {v: [] for v in VARIANTS}
        for _ in range(args.rounds):
            for variant in VARIANTS:
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", variant, "--weights", str(weights),
                     "--size", str(args.size), "--frames", str(args.frames),
                     "--threads", str(args.threads)],
                    capture_output=True, text=True, check=True, cwd=ROOT)
                results[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))

    print(f"SAM 2.1 hiera-tiny at {args.size}, {args.frames} frames, {args.threads} threads, "
          f"medians of {args.rounds} rounds")
    print(f"{'variant':<10} {'encoder s/frame':>16} {'tracked s/frame':>16} {'peak RSS MB':>12}")
    for variant, runs in results.items():
        print(f"{variant:<10} {statistics.median(r['encode'] for r in runs):>16.3f} "
              f"{statistics.median(r['track'] for r in runs):>16.3f} "
              f"{statistics.median(r['peak_mb'] for r in runs):>12.0f}")
    base = {v: results[v][0]["masks"] for v in VARIANTS}
    failures = [f"{v}: no mask on any frame" for v in VARIANTS
                if not any(np.any(m) for m in base[v].values())]
    for variant in ("ours", "ours-int8"):
        scores = [dice(np.array(base[variant][f], bool), np.array(base["oracle"][f], bool))
                  for f in base["oracle"]]
        print(f"mask Dice {variant} vs oracle over frames: min {min(scores):.4f} "
              f"mean {np.mean(scores):.4f}")
        if variant == "ours" and min(scores) < SMOKE_MIN_DICE:
            failures.append(f"ours vs oracle mask Dice {min(scores):.4f} < {SMOKE_MIN_DICE}")
    ratio = (statistics.median(r["track"] for r in results["ours"])
             / statistics.median(r["track"] for r in results["oracle"]))
    print(f"ours / oracle tracked-frame time: {ratio:.2f}")
    int8 = (statistics.median(r["track"] for r in results["ours-int8"])
            / statistics.median(r["track"] for r in results["ours"]))
    print(f"int8 / fp32 tracked-frame time: {int8:.2f}")
    if failures:
        sys.exit("; ".join(failures))


if __name__ == "__main__":
    main()
