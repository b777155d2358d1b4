"""The mask transfer format: size and encode/decode time of ours (bit-packed + zlib) against
raw bytes, zlib of raw bytes and run-length JSON, on a real mask (the brain in 60 slices of
Debian invesalius-examples' head CT, 256 x 256), medians of --repeat runs.

    .venv/bin/python bench/mask_format.py [--repeat 7] [--smoke]

--smoke: 6 slices of the same mask, one run per format (seconds); exits non-zero when a
format does not give back the mask it was given.
"""
import argparse
import json
import statistics
import sys
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "backend"), str(ROOT)]

from annotations import masks  # noqa: E402
from model.imaging.inv3 import DEBIAN_HEAD_CT, read_inv3  # noqa: E402
from tests.model.head_ct import brain_volume  # noqa: E402


def rle_json(mask: np.ndarray) -> bytes:
    runs = {}
    for k, plane in enumerate(mask):
        flat = plane.ravel()
        edges = np.flatnonzero(np.diff(np.concatenate([[0], flat, [0]])))
        if edges.size:
            runs[k] = edges.tolist()
    return json.dumps({"shape": mask.shape, "runs": runs}).encode()


def un_rle_json(data: bytes) -> np.ndarray:
    body = json.loads(data)
    mask = np.zeros(body["shape"], np.uint8)
    for k, edges in body["runs"].items():
        flat = mask[int(k)].reshape(-1)
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            flat[start:stop] = 1
    return mask


def timed(function, *args, repeat: int):
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = function(*args)
        times.append(time.perf_counter() - started)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    args = parser.parse_args()
    first, last = (64, 70) if args.smoke else (38, 98)
    if args.smoke:
        args.repeat = 1
    head = read_inv3(DEBIAN_HEAD_CT)
    mask = brain_volume(head.voxels, range(first, last))[first:last].astype(np.uint8)
    if not mask.any():
        sys.exit("the brain mask is empty")
    shape = mask.shape
    formats = {
        "raw uint8": (lambda m: m.tobytes(),
                      lambda d: np.frombuffer(d, np.uint8).reshape(shape)),
        "zlib(raw)": (lambda m: zlib.compress(m.tobytes(), 6),
                      lambda d: np.frombuffer(zlib.decompress(d), np.uint8).reshape(shape)),
        "RLE JSON": (rle_json, un_rle_json),
        "ours: packbits+zlib": (masks.encode, lambda d: masks.decode(d, shape)),
    }
    print(f"mask {shape}, {int(mask.sum())} voxels inside")
    print(f"{'format':<22}{'bytes':>10}{'encode ms':>11}{'decode ms':>11}")
    for name, (encode, decode) in formats.items():
        encode_s, data = timed(encode, mask, repeat=args.repeat)
        decode_s, back = timed(decode, data, repeat=args.repeat)
        if not np.array_equal(back, mask):
            sys.exit(f"{name}: the decoded mask differs from the encoded one")
        print(f"{name:<22}{len(data):>10}{encode_s * 1000:>11.2f}{decode_s * 1000:>11.2f}")


if __name__ == "__main__":
    main()
