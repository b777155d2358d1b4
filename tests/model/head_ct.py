"""The real head CT shipped by Debian's invesalius-examples, and brain masks made from it.

Cranium.inv3 is a gzipped tar holding main.plist (shape, spacing) and
matrix.dat (raw int16 HU, z, y, x). The brain reference is the intracranial
soft tissue: voxels between -10 and 100 HU (3x3 mean) away from bone, the
largest region after a 3-pixel erosion, grown back and hole-filled, per slice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from model.imaging.inv3 import DEBIAN_HEAD_CT, read_inv3
from model.imaging.volume import closest_to_lps

CRANIUM = DEBIAN_HEAD_CT
APT_PACKAGE = "invesalius-examples"
BRAIN_WINDOW = (40.0, 80.0)
BRAIN_SLICES = range(45, 92)


@dataclass(frozen=True)
class HeadCT:
    hu: np.ndarray  # float32 (slices, rows, cols)
    spacing_zyx: tuple[float, float, float]


def require_cranium() -> Path:
    """The data file; skips when it is missing, except under CI, where it fails."""
    if CRANIUM.is_file():
        return CRANIUM
    message = f"{CRANIUM} is missing: apt-get install -y {APT_PACKAGE}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def load_head_ct(path: Path) -> HeadCT:
    """The volume as a viewer should show it (anterior at the top, patient right on the
    screen's left), so that fixtures made from it are stored the way the importer stores the
    demo and their orientation markers tell the truth."""
    volume = closest_to_lps(read_inv3(path))
    col_mm, row_mm, slice_mm = volume.spacing
    return HeadCT(hu=volume.voxels, spacing_zyx=(slice_mm, row_mm, col_mm))


def brain_mask(hu_slice: np.ndarray) -> np.ndarray:
    smooth = ndimage.uniform_filter(hu_slice, 3)
    soft = (smooth > -10) & (smooth < 100) & ~ndimage.binary_dilation(hu_slice >= 150)
    core = ndimage.binary_erosion(soft, iterations=3)
    labels, count = ndimage.label(core)
    if count == 0:
        return core
    largest = labels == np.bincount(labels.ravel())[1:].argmax() + 1
    return ndimage.binary_fill_holes(ndimage.binary_dilation(largest, iterations=3) & soft)


def brain_volume(hu: np.ndarray, slices: range) -> np.ndarray:
    mask = np.zeros(hu.shape, bool)
    for index in slices:
        mask[index] = brain_mask(hu[index])
    return mask


def box_of(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])
