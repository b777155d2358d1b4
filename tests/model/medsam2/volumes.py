"""Synthetic volumes for the MedSAM-2 tests and benches."""

from __future__ import annotations

import numpy as np


def smooth_volume(slices: int, rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """A [0, 1] volume with a bright ellipsoid moving through it and mild noise."""
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.mgrid[0:slices, 0:rows, 0:cols].astype(np.float32)
    centre_y = rows * (0.45 + 0.02 * zz)
    centre_x = cols * 0.5
    inside = ((yy - centre_y) / (0.2 * rows)) ** 2 + ((xx - centre_x) / (0.25 * cols)) ** 2
    volume = 0.2 + 0.6 * (inside <= 1) + 0.03 * rng.standard_normal((slices, rows, cols))
    return np.clip(volume, 0, 1).astype(np.float32)
