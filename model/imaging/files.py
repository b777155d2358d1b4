"""Reading a volume from a path, whatever its format, and writing masks next to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.imaging.dicom_file import check_dicom_size, is_dicom_part10, read_dicom
from model.imaging.errors import NoPixelDataError, UnsupportedFormatError
from model.imaging.nifti import read_nifti, write_nifti_mask
from model.imaging.nrrd import read_nrrd, write_nrrd_mask
from model.imaging.series import assemble_volume
from model.imaging.volume import Volume

NIFTI_SUFFIXES = (".nii", ".nii.gz")
NRRD_SUFFIXES = (".nrrd", ".nhdr")


def volume_format(name: str) -> str | None:
    """'nifti' or 'nrrd' from a file name, or None (DICOM is recognised by content instead)."""
    lower = name.lower()
    if lower.endswith(NIFTI_SUFFIXES):
        return "nifti"
    if lower.endswith(NRRD_SUFFIXES):
        return "nrrd"
    return None


def read_volume(
    path: str | Path, *, max_decoded_bytes: int | None = None, untrusted: bool = False
) -> Volume:
    """Read a NIfTI or NRRD file, one DICOM file, or a folder holding one DICOM series.

    In a folder, files that are not DICOM images (DICOMDIR, reports, stray files) are skipped;
    the images left must form exactly one consistent series.

    ``max_decoded_bytes`` caps the decoded size of each image, checked from its header before
    the voxels are allocated. ``untrusted`` (a file someone sent) refuses NRRD headers that
    point at another file of this machine.

    Raises
    ------
    model.imaging.errors.ImagingError
        With a message that says what is wrong; never patient data.
    """
    path = Path(path)
    if path.is_dir():
        return read_dicom_folder(path)
    kind = volume_format(path.name)
    if kind == "nifti":
        return read_nifti(path, max_decoded_bytes=max_decoded_bytes)
    if kind == "nrrd":
        return read_nrrd(path, max_decoded_bytes=max_decoded_bytes,
                         allow_detached=not untrusted)
    dataset = read_dicom(path, max_decoded_bytes=max_decoded_bytes)
    if max_decoded_bytes is not None:
        check_dicom_size(dataset, max_decoded_bytes)
    return assemble_volume([dataset])


def read_dicom_folder(folder: Path) -> Volume:
    datasets = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        with open(file, "rb") as stream:
            if not is_dicom_part10(stream.read(132)):
                continue
        dataset = read_dicom(file)
        if "PixelData" in dataset or "FloatPixelData" in dataset:
            datasets.append(dataset)
    if not datasets:
        raise NoPixelDataError("the folder holds no DICOM images")
    return assemble_volume(datasets)


def write_mask(mask: np.ndarray, like: Volume, path: str | Path) -> None:
    """Write ``mask`` (uint8, shaped like ``like.voxels``) as .nii/.nii.gz or .nrrd.

    The file carries the geometry of ``like``, so it overlays the source in any viewer.
    """
    mask = np.asarray(mask)
    if mask.dtype != np.uint8 or mask.shape != like.voxels.shape:
        raise ValueError(
            f"mask must be uint8 shaped {like.voxels.shape}, got {mask.dtype} {mask.shape}"
        )
    kind = volume_format(Path(path).name)
    if kind == "nifti":
        write_nifti_mask(mask, like, path)
    elif kind == "nrrd":
        write_nrrd_mask(mask, like, path)
    else:
        raise UnsupportedFormatError("masks are written as .nii, .nii.gz or .nrrd")
