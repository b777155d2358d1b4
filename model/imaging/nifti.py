"""NIfTI-1/2 volumes (.nii, .nii.gz): RAS on disk, LPS in :class:`Volume`."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from model.imaging.errors import CorruptFileError, TruncatedFileError, UnsupportedFormatError
from model.imaging.volume import LPS_TO_RAS, Volume


def read_nifti(path: str | Path) -> Volume:
    """Read a NIfTI file; ``voxels[k, j, i] == data[i, j, k]`` with the scaling applied."""
    try:
        image = nib.load(str(path))
    except (nib.filebasedimages.ImageFileError, ValueError, OSError, EOFError) as exc:
        raise CorruptFileError("not a readable NIfTI file: the header is invalid") from exc
    if not isinstance(image, nib.Nifti1Image | nib.Nifti2Image):
        raise UnsupportedFormatError("the file is not a NIfTI image")
    shape = image.shape
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) not in (2, 3):
        raise UnsupportedFormatError(
            f"the NIfTI image has {len(image.shape)} dimensions {tuple(image.shape)}; "
            "only 2D and 3D scalar images can be annotated"
        )
    try:
        data = np.asarray(image.dataobj, dtype=np.float32).reshape(shape + (1,) * (3 - len(shape)))
    except (ValueError, OSError, EOFError) as exc:
        raise TruncatedFileError("the NIfTI file is shorter than its header declares") from exc
    if not np.all(np.isfinite(data)):
        raise CorruptFileError("the NIfTI image contains NaN or infinite values")
    affine = LPS_TO_RAS @ image.affine
    if abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        raise CorruptFileError("the NIfTI header has a degenerate voxel-to-world transform")
    # With qform_code and sform_code both 0 (unknown) the header gives voxel sizes only: the
    # affine nibabel falls back to says nothing about where the patient's directions lie.
    header = image.header
    known = int(header["qform_code"]) > 0 or int(header["sform_code"]) > 0
    return Volume(np.ascontiguousarray(data.transpose(2, 1, 0)), affine, None,
                  orientation_known=known)


def write_nifti_mask(mask: np.ndarray, like: Volume, path: str | Path) -> None:
    """Write a uint8 (slices, rows, cols) mask with the geometry of ``like`` (RAS on disk)."""
    image = nib.Nifti1Image(np.ascontiguousarray(mask.transpose(2, 1, 0)), LPS_TO_RAS @ like.affine)
    image.set_qform(image.affine, code=1)
    image.set_sform(image.affine, code=1)
    image.set_data_dtype(np.uint8)
    nib.save(image, str(path))
