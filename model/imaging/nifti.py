"""NIfTI-1/2 volumes (.nii, .nii.gz): RAS on disk, LPS in :class:`Volume`."""

from __future__ import annotations

import gzip
import struct
import tempfile
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np

from model.imaging.errors import (
    CorruptFileError,
    DecodedSizeError,
    TruncatedFileError,
    UnsupportedFormatError,
)
from model.imaging.limits import check_decoded_size, human_bytes, inflate_capped, require_length
from model.imaging.volume import LPS_TO_RAS, Volume

_HEADERS = {348: nib.Nifti1Header, 540: nib.Nifti2Header}
_GZIP_MAGIC = b"\x1f\x8b"


def read_nifti(path: str | Path, *, max_decoded_bytes: int | None = None) -> Volume:
    """Read a NIfTI file; ``voxels[k, j, i] == data[i, j, k]`` with the scaling applied.

    With ``max_decoded_bytes`` the header is read first and an image that would decode to more
    than that is refused before anything is allocated; a gzip file is inflated in chunks, only
    as far as the header declares, into a temporary file.
    """
    path = Path(path)
    with open(path, "rb") as stream:
        compressed = stream.read(2) == _GZIP_MAGIC
    if max_decoded_bytes is None:
        return _read_nifti(path)
    expected = _check_header(path, compressed, max_decoded_bytes)
    if not compressed:
        return _read_nifti(path)
    with tempfile.TemporaryDirectory(prefix="medsam-nifti-") as folder:
        plain = Path(folder) / "volume.nii"
        with open(path, "rb") as source, open(plain, "wb") as target:
            written = inflate_capped(source, target, expected, wbits=zlib.MAX_WBITS | 16,
                                     cap=max_decoded_bytes, what="NIfTI file")
        require_length(written, expected, "NIfTI file")
        return _read_nifti(plain)


def _check_header(path: Path, compressed: bool, cap: int) -> int:
    """Check the declared size against ``cap``; returns the file's declared length (header,
    extensions and voxel data) once uncompressed."""
    try:
        opener = gzip.open if compressed else open
        with opener(path, "rb") as stream:
            head = stream.read(540)
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptFileError("not a readable NIfTI file: the header is invalid") from exc
    if len(head) < 348:
        raise TruncatedFileError("the NIfTI file ends inside its header")
    size = None
    for order in "<>":
        declared = struct.unpack(f"{order}i", head[:4])[0]
        if declared in _HEADERS:
            size = declared
            break
    if size is None or len(head) < size:
        raise CorruptFileError("not a readable NIfTI file: the header is invalid")
    try:
        header = _HEADERS[size](binaryblock=head[:size], check=False)
        shape = header.get_data_shape()
        dtype = header.get_data_dtype()
        offset = int(header["vox_offset"])
    except (ValueError, TypeError, KeyError, nib.spatialimages.HeaderDataError) as exc:
        raise CorruptFileError("not a readable NIfTI file: the header is invalid") from exc
    if offset < 0:
        raise CorruptFileError("the NIfTI header declares a negative voxel offset")
    check_decoded_size(shape, dtype.itemsize, cap, what="NIfTI image")
    voxels = int(np.prod(shape, dtype=object)) if shape else 0
    declared_length = max(offset, size) + voxels * dtype.itemsize
    if declared_length > cap:
        raise DecodedSizeError(
            f"the NIfTI file declares {human_bytes(declared_length)} of header extensions and "
            f"voxels, more than the limit of {human_bytes(cap)}"
        )
    return declared_length


def _read_nifti(path: Path) -> Volume:
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
