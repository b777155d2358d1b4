"""Mask clean-up: largest connected component, hole filling, bounding boxes, Dice."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest face-connected component of a 2D or 3D mask (empty stays empty)."""
    labels, count = ndimage.label(mask)
    if count <= 1:
        return mask.astype(bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == int(sizes.argmax())


def fill_holes_per_slice(mask: np.ndarray) -> np.ndarray:
    """Fill enclosed holes in each (rows, cols) slice of a (slices, rows, cols) mask."""
    filled = np.empty(mask.shape, bool)
    for index, plane in enumerate(mask):
        filled[index] = ndimage.binary_fill_holes(plane)
    return filled


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) inclusive pixel bounds of a 2D mask, None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap of two masks; 1.0 when both are empty. The one definition in the project
    (engines, training, the backend, benches and tests all import it)."""
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    if a.shape != b.shape:
        raise ValueError(f"masks differ in shape: {a.shape} and {b.shape}")
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total
