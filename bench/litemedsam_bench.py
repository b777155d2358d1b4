"""LiteMedSAM speed and accuracy, measured side by side in one run.

    .venv/bin/python bench/litemedsam_bench.py [--threads 2] [--rounds 7] [--propagate] [--smoke]

Per slice (medians over rounds, variants interleaved so that load on a shared
machine hits them alike): image encoder of the reference package (fp32), ours
fp32 (torch: the fp32 engine; ONNX Runtime), ours int8 by torch dynamic
quantization, by ONNX Runtime dynamic int8 and by OpenVINO int8 linear layers
with the rest in f32 or, the int8 engine's choice, in bf16 where the CPU has it;
mask decoder of the reference, ours in torch and ours in OpenVINO; a cached
second prompt end to end on both engines. Then
fp32-vs-reference logit parity, brain Dice of fp32 and int8 on real slices,
and, with --propagate, a whole-head propagation over all 108 slices.
Needs Debian's invesalius-examples for the real head CT. Exits non-zero when the fp32
parity exceeds PARITY_LIMIT or an int8 variant agrees with fp32 under MIN_AGREEMENT on a slice.

--smoke: one round, two accuracy slices and, with --propagate, a 3-slice slab (seconds):
every variant is still built and run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "model")]

from head_ct import (  # noqa: E402
    BRAIN_WINDOW,
    CRANIUM,
    box_of,
    brain_mask,
    load_head_ct,
)
from reference_oracle import reference_network  # noqa: E402

from model.engines.base import SegmentOptions  # noqa: E402
from model.engines.registry import get_engine  # noqa: E402
from model.postprocess import dice, fill_holes_per_slice  # noqa: E402
from model.preprocess import ResizeGeometry, window_to_unit  # noqa: E402
from model.quantize import torch_dynamic_int8  # noqa: E402
from model.weights import LITEMEDSAM_WEIGHTS, verified_path  # noqa: E402

ACCURACY_SLICES = (48, 52, 56, 60, 64, 68, 72, 76, 80, 84, 88)
SMOKE_ACCURACY_SLICES = (64, 72)
PARITY_LIMIT = 1e-3  # max |logit| difference, ours fp32 against the reference network
MIN_AGREEMENT = 0.9  # Dice of an int8 variant's mask against fp32's, per slice


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def head_mask(hu: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    body = ndimage.binary_opening(hu > -400, iterations=2)
    labels, count = ndimage.label(body)
    if count == 0:
        return body
    return ndimage.binary_fill_holes(labels == np.bincount(labels.ravel())[1:].argmax() + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--propagate", action="store_true", help="run the 108-slice propagation")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    args = parser.parse_args()
    accuracy_slices = ACCURACY_SLICES
    if args.smoke:
        args.rounds, accuracy_slices = 1, SMOKE_ACCURACY_SLICES
    torch.set_num_threads(args.threads)

    ct = load_head_ct(CRANIUM)
    failures = []
    fp32 = get_engine("litemedsam", device="cpu")
    int8 = get_engine("litemedsam-int8")
    reference = reference_network(str(verified_path(LITEMEDSAM_WEIGHTS)))
    torch_int8 = torch_dynamic_int8(fp32.network.image_encoder)
    from model import openvino_cpu
    from model.quantize import OnnxEncoder, cache_dir, export_onnx, quantize_onnx_int8

    fp32_onnx_path = cache_dir() / "bench-litemedsam-encoder-fp32.onnx"
    ort_int8_path = cache_dir() / "bench-litemedsam-encoder-ort-int8.onnx"
    export_onnx(fp32.network.image_encoder, fp32_onnx_path, 256)
    quantize_onnx_int8(fp32_onnx_path, ort_int8_path)
    ort_fp32 = OnnxEncoder(fp32_onnx_path, threads=args.threads)
    ort_int8 = OnnxEncoder(ort_int8_path, threads=args.threads)
    ov_int8_path = openvino_cpu.build_int8_encoder(
        fp32.network.image_encoder, fp32.weights_sha256, 256)
    ov_int8_f32 = openvino_cpu.Int8Encoder(ov_int8_path, args.threads, "f32")
    print(f"engine {int8.name}: {int8.runtime}")

    key = 70
    truth = brain_mask(ct.hu[key])
    image = window_to_unit(ct.hu[key], *BRAIN_WINDOW)
    geometry = ResizeGeometry.for_shape(image.shape, 256)
    tensor = geometry.image_to_model(image)
    box = box_of(truth)
    box_t = torch.from_numpy(geometry.box_to_model(box))[None]

    encoders = {
        "reference fp32 (torch)": reference.image_encoder,
        "ours fp32 (torch, engine)": fp32.network.image_encoder,
        "ours fp32 (onnxruntime)": ort_fp32,
        "ours int8 (torch dynamic)": torch_int8,
        "ours int8 (onnxruntime dynamic)": ort_int8,
        "ours int8 linear + f32 (openvino)": ov_int8_f32,
        f"ours int8 linear + {int8._precision} (openvino, engine)": int8._encode,
    }
    times: dict[str, list[float]] = {name: [] for name in encoders}
    decode_times: dict[str, list[float]] = {
        "reference (torch)": [], "ours (torch)": [], "ours (openvino, int8 engine)": [],
        "cached prompt, fp32 engine": [], "cached prompt, int8 engine": []}
    with torch.inference_mode():
        embedding = fp32.network.image_encoder(tensor)
        handle = fp32.embed_slice(image)
        int8_handle = int8.embed_slice(image)
        sparse, dense = fp32.network.prompt_encoder(None, box_t, None)
        for encoder in encoders.values():
            encoder(tensor)  # warm-up
        int8.predict_2d(int8_handle, box=box)
        for _ in range(args.rounds):
            for name, encoder in encoders.items():
                times[name].append(timed(lambda encoder=encoder: encoder(tensor)))
            decode_times["reference (torch)"].append(timed(lambda: reference.mask_decoder(
                embedding, reference.prompt_encoder.get_dense_pe(),
                *reference.prompt_encoder(None, box_t[:, None], None), multimask_output=False)))
            decode_times["ours (torch)"].append(
                timed(lambda: fp32.network.decode(embedding, boxes=box_t)))
            decode_times["ours (openvino, int8 engine)"].append(
                timed(lambda: int8._decode(embedding, sparse, dense)))
            decode_times["cached prompt, fp32 engine"].append(
                timed(lambda: fp32.predict_2d(handle, box=box)))
            decode_times["cached prompt, int8 engine"].append(
                timed(lambda: int8.predict_2d(int8_handle, box=box)))

        expected = reference(tensor, box_t.numpy())
        ours_logits, _ = fp32.network.decode(embedding, boxes=box_t)
        parity = (ours_logits - expected).abs().max().item()

    print(f"threads: {args.threads}, rounds: {args.rounds} (medians, seconds per slice)")
    ref_median = statistics.median(times["reference fp32 (torch)"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  encoder {name:<44} {median:7.3f}   x{ref_median / median:4.2f} vs reference")
    for name, values in decode_times.items():
        print(f"  decoder {name:<44} {statistics.median(values) * 1000:7.1f} ms")
    print(f"parity: max |logit ours fp32 - reference| = {parity:.2e}")
    if not parity <= PARITY_LIMIT:
        failures.append(f"fp32 parity {parity:.2e} > {PARITY_LIMIT:.0e}")

    # The int8 engine as a CPU without native bf16 runs it: int8 linear layers + f32.
    int8_f32 = type(int8)()  # its own instance: get_engine shares one per process
    int8_f32._encode = ov_int8_f32
    variants = {f"int8 + {int8._precision} (engine)": int8, "int8 + f32": int8_f32}
    losses = {name: [] for name in variants}
    agreements = {name: [] for name in variants}
    for index in accuracy_slices:
        truth = brain_mask(ct.hu[index])
        slice_image = window_to_unit(ct.hu[index], *BRAIN_WINDOW)

        def mask_of(engine, truth=truth, slice_image=slice_image):
            prediction = engine.predict_2d(slice_image, box=box_of(truth))
            return fill_holes_per_slice(prediction.mask[None])[0]

        reference_mask = mask_of(fp32)
        reference_score = dice(reference_mask, truth)
        line = f"  slice {index}: brain dice fp32 {reference_score:.4f}"
        for name, engine in variants.items():
            mask = mask_of(engine)
            losses[name].append(reference_score - dice(mask, truth))
            agreements[name].append(dice(mask, reference_mask))
            line += f"; {name} {dice(mask, truth):.4f}, vs fp32 {agreements[name][-1]:.4f}"
        print(line)
    for name in variants:
        print(f"{name}: mean dice loss vs fp32 {np.mean(losses[name]):.4f}; "
              f"min agreement with fp32 {min(agreements[name]):.4f}")
        if min(agreements[name]) < MIN_AGREEMENT:
            failures.append(f"{name}: agreement with fp32 {min(agreements[name]):.4f} "
                            f"< {MIN_AGREEMENT}")

    if args.propagate:
        if args.smoke:  # a slab around the middle stands in for the whole head
            middle = ct.hu.shape[0] // 2
            ct = type(ct)(ct.hu[middle - 1:middle + 2].copy(), ct.spacing_zyx)
        truth = np.stack([head_mask(s) for s in ct.hu])
        middle = ct.hu.shape[0] // 2
        # A timing run over every slice (min_iou 0 never stops early). The threshold head mask
        # (skin and all) is only a rough yardstick; the int8-vs-fp32 agreement is the measure.
        volumes = {}
        for engine in (int8, fp32):
            engine.cache.clear()
            started = time.perf_counter()
            result = engine.segment_volume(
                ct.hu, ct.spacing_zyx, [(middle, box_of(truth[middle]))], window=(40, 400),
                options=SegmentOptions(min_iou=0.0, largest_component=True, fill_holes=True))
            elapsed = time.perf_counter() - started
            done = int(result.mask.any(axis=(1, 2)).sum())
            print(f"propagation {engine.name}: {done} slices with mask of {ct.hu.shape[0]} in "
                  f"{elapsed:.1f} s ({elapsed / ct.hu.shape[0]:.2f} s/slice), head dice "
                  f"{dice(result.mask, truth):.4f}, timings "
                  f"{ {k: round(v, 1) for k, v in result.timings.items()} }")
            volumes[engine.name] = result.mask
        print(f"propagation int8 vs fp32 agreement (3D dice): "
              f"{dice(volumes[int8.name], volumes[fp32.name]):.4f}")
    if failures:
        sys.exit("; ".join(failures))


if __name__ == "__main__":
    main()
