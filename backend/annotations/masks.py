"""Mask encoding, statistics and comparison (no Django).

Storage and transfer format: the uint8 mask (slices, rows, cols) bit-packed in C order with
``numpy.packbits`` and compressed with zlib. The browser inflates it with
``DecompressionStream('deflate')`` and unpacks bits, so the stored bytes are served as they
are.
"""
import hashlib
import zlib
from dataclasses import dataclass

import numpy as np

from model.postprocess import dice  # noqa: F401  (masks.dice for the backend's callers)


def encode(mask: np.ndarray) -> bytes:
    bits = np.packbits(np.ascontiguousarray(mask, dtype=bool).ravel())
    return zlib.compress(bits.tobytes(), level=6)


def decode(data: bytes, shape: tuple[int, int, int]) -> np.ndarray:
    """The uint8 mask; ValueError unless ``data`` holds exactly that many voxels."""
    count = int(np.prod(shape))
    inflater = zlib.decompressobj()
    raw = inflater.decompress(bytes(data), (count + 7) // 8 + 1)
    if len(raw) != (count + 7) // 8 or inflater.unconsumed_tail or not inflater.eof:
        raise ValueError(f"mask data does not hold {count} voxels of shape {tuple(shape)}")
    bits = np.frombuffer(raw, dtype=np.uint8)
    return np.unpackbits(bits, count=count).reshape(shape)


def content_sha256(mask: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(mask, dtype=np.uint8).tobytes()).hexdigest()


@dataclass(frozen=True)
class MaskStats:
    voxel_count: int
    volume_ml: float
    slice_range: tuple[int, int] | None
    extent_mm: float


def stats(mask: np.ndarray, spacing_zyx: tuple[float, float, float]) -> MaskStats:
    count = int(np.count_nonzero(mask))
    voxel_ml = float(np.prod(spacing_zyx)) / 1000.0
    occupied = np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1))
    if occupied.size == 0:
        return MaskStats(count, 0.0, None, 0.0)
    first, last = int(occupied[0]), int(occupied[-1])
    return MaskStats(count, count * voxel_ml, (first, last), (last - first + 1) * spacing_zyx[0])


