"""Where each frame of a DICOM image lies in the patient, for classic and enhanced objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from model.imaging.errors import CorruptFileError, InvalidGeometryError

_ORTHONORMAL_TOLERANCE = 1e-3


@dataclass(frozen=True)
class FramePlane:
    """Geometry of one frame; attributes are None where the object does not record them.

    ``pixel_spacing`` is DICOM PixelSpacing order: (row_mm, col_mm), i.e. the distance between
    rows first.
    """

    position: np.ndarray | None
    orientation: np.ndarray | None
    pixel_spacing: tuple[float, float] | None
    slice_thickness: float | None

    @property
    def row_cosine(self) -> np.ndarray:
        return _require(self.orientation)[:3]

    @property
    def col_cosine(self) -> np.ndarray:
        return _require(self.orientation)[3:]

    @property
    def normal(self) -> np.ndarray:
        return np.cross(self.row_cosine, self.col_cosine)


def _require(value: np.ndarray | None) -> np.ndarray:
    if value is None:
        raise InvalidGeometryError("the image has no orientation (ImageOrientationPatient)")
    return value


def frame_planes(dataset: Dataset) -> list[FramePlane]:
    """One :class:`FramePlane` per frame, from functional groups or classic attributes."""
    frames = number_of_frames(dataset)
    per_frame = dataset.get("PerFrameFunctionalGroupsSequence")
    shared = dataset.get("SharedFunctionalGroupsSequence")
    if per_frame is not None or shared is not None:
        shared_item = shared[0] if shared else Dataset()
        if per_frame is not None and len(per_frame) != frames:
            raise CorruptFileError(
                "the number of per-frame functional groups differs from NumberOfFrames"
            )
        items = list(per_frame) if per_frame is not None else [Dataset()] * frames
        return [_plane_from_groups(item, shared_item, dataset) for item in items]
    return _classic_planes(dataset, frames)


def number_of_frames(dataset: Dataset) -> int:
    try:
        frames = int(dataset.get("NumberOfFrames") or 1)
    except (TypeError, ValueError) as exc:
        raise CorruptFileError("NumberOfFrames is not a number") from exc
    if frames < 1:
        raise CorruptFileError("NumberOfFrames must be at least 1")
    return frames


def functional_group_value(
    frame_item: Dataset, shared_item: Dataset, sequence: str, keyword: str
) -> object | None:
    """An attribute from a per-frame functional group, falling back to the shared group."""
    for group in (frame_item, shared_item):
        items = group.get(sequence)
        if items and keyword in items[0]:
            return items[0].get(keyword)
    return None


def _plane_from_groups(frame_item: Dataset, shared_item: Dataset, dataset: Dataset) -> FramePlane:
    def value(sequence: str, keyword: str) -> object | None:
        found = functional_group_value(frame_item, shared_item, sequence, keyword)
        return found if found is not None else dataset.get(keyword)

    return FramePlane(
        position=_vector(value("PlanePositionSequence", "ImagePositionPatient"), 3),
        orientation=_orientation(value("PlaneOrientationSequence", "ImageOrientationPatient")),
        pixel_spacing=_spacing(value("PixelMeasuresSequence", "PixelSpacing")),
        slice_thickness=_positive(value("PixelMeasuresSequence", "SliceThickness")),
    )


def _classic_planes(dataset: Dataset, frames: int) -> list[FramePlane]:
    orientation = _orientation(dataset.get("ImageOrientationPatient"))
    position = _vector(dataset.get("ImagePositionPatient"), 3)
    spacing = _spacing(dataset.get("PixelSpacing")) or _spacing(dataset.get("ImagerPixelSpacing"))
    thickness = _positive(dataset.get("SliceThickness"))
    positions: Sequence[np.ndarray | None] = [position] * frames
    offsets = dataset.get("GridFrameOffsetVector")
    if frames > 1:
        positions = [None] * frames
        if offsets is not None and position is not None and orientation is not None:
            offsets_mm = _vector(offsets, frames)
            normal = np.cross(orientation[:3], orientation[3:])
            if offsets_mm is not None:
                positions = [position + normal * offset for offset in offsets_mm]
    return [FramePlane(p, orientation, spacing, thickness) for p in positions]


def _floats(value: object, count: int) -> list[float] | None:
    if value is None or value == "":
        return None
    items = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    if len(items) != count:
        raise InvalidGeometryError(f"a geometry attribute has {len(items)} values, not {count}")
    try:
        numbers = [float(item) for item in items]
    except (TypeError, ValueError) as exc:
        raise InvalidGeometryError("a geometry attribute is not numeric") from exc
    if not all(np.isfinite(numbers)):
        raise InvalidGeometryError("a geometry attribute is not finite")
    return numbers


def _vector(value: object, count: int) -> np.ndarray | None:
    numbers = _floats(value, count)
    return None if numbers is None else np.array(numbers)


def _orientation(value: object) -> np.ndarray | None:
    cosines = _vector(value, 6)
    if cosines is None:
        return None
    row, col = cosines[:3], cosines[3:]
    if (
        abs(np.linalg.norm(row) - 1) > _ORTHONORMAL_TOLERANCE
        or abs(np.linalg.norm(col) - 1) > _ORTHONORMAL_TOLERANCE
        or abs(float(np.dot(row, col))) > _ORTHONORMAL_TOLERANCE
    ):
        raise InvalidGeometryError("ImageOrientationPatient is not two orthogonal unit vectors")
    return cosines


def _spacing(value: object) -> tuple[float, float] | None:
    numbers = _floats(value, 2)
    if numbers is None:
        return None
    if min(numbers) <= 0:
        return None  # some projection images carry 0\\0; treat as not recorded
    return numbers[0], numbers[1]


def _positive(value: object) -> float | None:
    numbers = _floats(value, 1)
    return numbers[0] if numbers and numbers[0] > 0 else None


# Private block written by model.imaging.dicom_export for sources without orientation.
PRIVATE_GROUP = 0x0011
PRIVATE_CREATOR = "MEDSAM2 GEOMETRY"
ORIENTATION_UNKNOWN = "ORIENTATION NOT ESTABLISHED"


def orientation_established(headers: Sequence[Dataset]) -> bool:
    """Whether the images establish where the patient's directions lie: every frame has
    ImageOrientationPatient and no image was marked by a conversion (see
    :mod:`model.imaging.dicom_export`) whose source did not record the orientation."""
    if not headers:
        return False
    for header in headers:
        try:
            block = header.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
            if ORIENTATION_UNKNOWN in str(block[0x01].value):
                return False
        except KeyError:
            pass
        try:
            if any(plane.orientation is None for plane in frame_planes(header)):
                return False
        except (CorruptFileError, InvalidGeometryError):
            return False
    return True
