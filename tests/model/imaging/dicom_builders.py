"""Multi-slice series built from real DICOM slices (pydicom's test files), for tests and bench.

Real headers and real pixels; only positions, UIDs and a per-slice pixel offset are rewritten, so
that the slice order of an assembled volume can be checked from its voxels.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterable

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid


def real_file(name: str) -> str:
    """Path of a file shipped with pydicom or the pydicom-data package."""
    path = get_testdata_file(name)
    assert path is not None, f"{name} missing: install pydicom-data"
    return str(path)


def build_series(
    count: int,
    *,
    source: str = "CT_small.dcm",
    slice_mm: float = 2.5,
    positions_mm: Iterable[float] | None = None,
    offset_per_slice: int = 10,
) -> list[Dataset]:
    """``count`` slices of one new series, in position order.

    Slice ``k`` lies at ``positions_mm[k]`` (default ``k * slice_mm``) along the normal of the
    source's orientation and has its stored values raised by ``k * offset_per_slice``.
    """
    template = pydicom.dcmread(real_file(source))
    if template.file_meta.TransferSyntaxUID.is_compressed:
        template.decompress()
    orientation = np.array([float(v) for v in template.ImageOrientationPatient])
    normal = np.cross(orientation[:3], orientation[3:])
    origin = np.array([float(v) for v in template.ImagePositionPatient])
    distances = (
        list(positions_mm) if positions_mm is not None else [k * slice_mm for k in range(count)]
    )
    study_uid, series_uid = generate_uid(), generate_uid()
    pixels = template.pixel_array
    slices = []
    for k, distance in enumerate(distances):
        ds = copy.deepcopy(template)
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [f"{v:.4f}" for v in origin + distance * normal]
        ds.PixelData = (pixels + k * offset_per_slice).astype(pixels.dtype).tobytes()
        slices.append(ds)
    return slices


def to_bytes(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
