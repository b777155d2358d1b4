"""The reference volumes of ``model.imaging.reference_data`` loaded for the bench and the
accuracy tests (that module stays free of imaging libraries: setup runs it as a script)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from model.imaging.nifti import read_nifti
from model.imaging.reference_data import reference_dir
from model.imaging.volume import Volume, closest_to_lps


def load_abdominal_ct(root: Path | None = None):
    """(HU volume, label volume, spacing_zyx) of ``example_ct_sm`` and its reference masks,
    (slices, rows, cols) turned the way the viewer shows them (anterior up, patient right on
    the left). ValueError when the two are not on one grid."""
    folder = reference_dir(root)
    ct = closest_to_lps(read_nifti(folder / "example_ct_sm.nii.gz"))
    seg = read_nifti(folder / "example_seg.nii.gz")
    seg = closest_to_lps(Volume(seg.voxels, seg.affine, None, seg.orientation_known))
    if not np.allclose(ct.affine, seg.affine, atol=1e-3):
        raise ValueError("the CT and its reference masks are not on one grid")
    col_mm, row_mm, slice_mm = ct.spacing
    return ct.voxels, np.rint(seg.voxels).astype(np.int32), (slice_mm, row_mm, col_mm)
