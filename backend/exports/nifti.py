"""A confirmed mask as NIfTI for research users: the series' geometry as the affine (RAS on
disk), so the file overlays the source volume in any NIfTI viewer."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from model.imaging import Volume, write_mask


def nifti_bytes(mask: np.ndarray, like: Volume) -> bytes:
    """``mask`` (uint8, shaped like ``like.voxels``) as a gzipped NIfTI-1 file."""
    with tempfile.TemporaryDirectory(prefix="medsam-nifti-") as folder:
        path = Path(folder) / "mask.nii.gz"
        write_mask(np.ascontiguousarray(mask, dtype=np.uint8), like, path)
        return path.read_bytes()
