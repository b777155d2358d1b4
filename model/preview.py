"""A live preview (issue 23): the mask of one box on one slice while the box is being drawn.

The preview is exactly the engine's 2D prediction of that box on the slice normalised as a job
normalises it (``model.preprocess.unit_slices``), on the slice embedding the worker caches by
content: a decoder pass, no encoder pass once the slice is embedded; with the holes filled when
the protocol fills them in its drafts (``postprocessing.fill_holes``, per slice). It is never a
record; the draft that may be signed is the job's, computed by the same engine with its
provenance and agreement check. Where a draft's key slice differs from its preview, it is the
propagation's doing (largest component in 3D; bench/preview_fidelity.py measures how often
and by how much).

On the wire the mask is cropped to its bounding box, ``np.packbits`` (C order, most significant
bit first) and zlib-compressed: a few hundred bytes for an organ's cross-section.
"""
from __future__ import annotations

import base64
import dataclasses
import zlib
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from .engines.base import Engine, Prediction


def preview(engine: Engine, unit_image: np.ndarray, box: Sequence[float],
            fill_holes: bool = False) -> Prediction:
    """The engine's mask of ``box`` (x0, y0, x1, y1 in pixels) on a [0, 1] slice."""
    prediction = engine.predict_2d(engine.embed_slice(unit_image),
                                   box=tuple(float(v) for v in box))
    if fill_holes:
        prediction = dataclasses.replace(prediction,
                                         mask=ndimage.binary_fill_holes(prediction.mask))
    return prediction


def encode_crop(mask: np.ndarray) -> dict:
    """``mask`` (rows, cols) as its bounding box: origin (row, col), shape (rows, cols) and the
    packed, compressed, base64 bits of that crop; an empty mask has shape (0, 0)."""
    mask = np.asarray(mask, bool)
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return {"origin": [0, 0], "shape": [0, 0], "bits": "", "pixels": 0}
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    crop = mask[r0:r1, c0:c1]
    packed = zlib.compress(np.packbits(crop, axis=None).tobytes(), 6)
    return {"origin": [r0, c0], "shape": [r1 - r0, c1 - c0],
            "bits": base64.b64encode(packed).decode("ascii"), "pixels": int(crop.sum())}


def decode_crop(encoded: dict, shape: Sequence[int]) -> np.ndarray:
    """The full (rows, cols) mask back from :func:`encode_crop` (tests, bench)."""
    mask = np.zeros(tuple(int(v) for v in shape), bool)
    height, width = (int(v) for v in encoded["shape"])
    if not height or not width:
        return mask
    bits = np.unpackbits(np.frombuffer(zlib.decompress(base64.b64decode(encoded["bits"])),
                                       np.uint8))[:height * width]
    r0, c0 = (int(v) for v in encoded["origin"])
    mask[r0:r0 + height, c0:c0 + width] = bits.reshape(height, width).astype(bool)
    return mask
