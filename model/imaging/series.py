"""Assembling the images of one DICOM series into a volume, refusing inconsistent series.

The slice order comes from the positions projected on the normal of ImageOrientationPatient,
never from InstanceNumber. Every check runs on headers alone (:func:`plan_series`), so a server
can report a broken series without decoding its pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from model.imaging.decode import decode_frames
from model.imaging.dicom_file import require_pixel_data
from model.imaging.errors import (
    DuplicatePositionError,
    InvalidGeometryError,
    IrregularSpacingError,
    MatrixSizeMismatchError,
    MissingSlicesError,
    MixedSeriesError,
    NoPixelDataError,
    OrientationMismatchError,
    PixelSpacingMismatchError,
)
from model.imaging.geometry import FramePlane, frame_planes, orientation_established
from model.imaging.volume import Volume, affine_from_planes

ORIENTATION_TOLERANCE = 1e-3
"""Largest difference between direction cosines of slices of one volume."""
PIXEL_SPACING_TOLERANCE = 1e-3
"""Largest relative difference between the pixel spacings of slices of one volume."""
SLICE_GAP_TOLERANCE = 0.05
"""Largest relative deviation of a slice gap from the regular one."""
DEFAULT_SPACING_MM = 1.0
"""Used, as DICOM viewers do, when an image records no spacing (ultrasound cine, photographs)."""


@dataclass(frozen=True)
class FrameRef:
    """One frame of one of the datasets given to :func:`plan_series`."""

    dataset_index: int
    frame_index: int


@dataclass(frozen=True)
class SeriesPlan:
    """The checked layout of a volume: which frame goes to which slice, and the affine."""

    order: tuple[FrameRef, ...]
    affine: np.ndarray
    rows: int
    cols: int
    modality: str | None


def plan_series(headers: Sequence[Dataset]) -> SeriesPlan:
    """Check that ``headers`` form one regular volume and work out its slice order and affine.

    ``headers`` may be read with ``stop_before_pixels``. Raises a subclass of
    :class:`~model.imaging.errors.InconsistentSeriesError` naming what is inconsistent.
    """
    if not headers:
        raise InvalidGeometryError("the series has no images")
    _check_same_series(headers)
    rows, cols = _check_same_matrix(headers)
    planes: list[tuple[FrameRef, FramePlane]] = [
        (FrameRef(d, f), plane)
        for d, header in enumerate(headers)
        for f, plane in enumerate(frame_planes(header))
    ]
    modality = str(headers[0].get("Modality") or "").strip() or None
    if len(planes) == 1:
        ref, plane = planes[0]
        return SeriesPlan((ref,), _single_image_affine(plane), rows, cols, modality)
    if any(p.position is None or p.orientation is None for _, p in planes):
        if len(headers) > 1:
            raise InvalidGeometryError(
                "the images have no position or orientation, so their order is unknown; "
                "upload them one at a time or as one multi-frame file"
            )
        return _plan_unpositioned_frames(headers[0], planes, rows, cols, modality)
    reference = planes[0][1]
    _check_same_orientation([p for _, p in planes])
    _check_same_pixel_spacing([p for _, p in planes])
    normal = reference.normal
    distances = np.array([float(np.dot(p.position, normal)) for _, p in planes])
    ordering = np.argsort(distances, kind="stable")
    distances = distances[ordering]
    ordered = [planes[i] for i in ordering]
    step = _check_regular_gaps(distances, [p.position for _, p in ordered])
    affine = affine_from_planes(
        reference.row_cosine,
        reference.col_cosine,
        reference.pixel_spacing or (DEFAULT_SPACING_MM, DEFAULT_SPACING_MM),
        ordered[0][1].position,
        step,
    )
    return SeriesPlan(tuple(ref for ref, _ in ordered), affine, rows, cols, modality)


def check_compatible(reference: Dataset, candidate: Dataset) -> None:
    """Raise unless ``candidate`` can join the series of ``reference`` (matrix, orientation,
    pixel spacing); used to refuse the odd file of an upload before anything is stored."""
    _check_same_matrix([reference, candidate])
    planes = [frame_planes(reference)[0], frame_planes(candidate)[0]]
    if all(p.orientation is not None for p in planes):
        _check_same_orientation(planes)
    _check_same_pixel_spacing(planes)


def assemble_volume(datasets: Sequence[Dataset]) -> Volume:
    """Check, order and decode ``datasets`` (one series, with pixel data) into a Volume."""
    for dataset in datasets:
        require_pixel_data(dataset)
    plan = plan_series(datasets)
    voxels = np.empty((len(plan.order), plan.rows, plan.cols), dtype=np.float32)
    decoded: dict[int, np.ndarray] = {}
    for slice_index, ref in enumerate(plan.order):
        if ref.dataset_index not in decoded:
            decoded[ref.dataset_index] = decode_frames(datasets[ref.dataset_index])
        voxels[slice_index] = decoded[ref.dataset_index][ref.frame_index]
    return Volume(voxels, plan.affine, plan.modality,
                  orientation_known=orientation_established(datasets))


def _check_same_series(headers: Sequence[Dataset]) -> None:
    for keyword, what in (
        ("PatientID", "patients"),
        ("StudyInstanceUID", "studies"),
        ("SeriesInstanceUID", "series"),
    ):
        values = {str(h.get(keyword, "")) for h in headers}
        if len(values) > 1:
            raise MixedSeriesError(
                f"the images belong to {len(values)} different {what}; give one series at a time"
            )


def _check_same_matrix(headers: Sequence[Dataset]) -> tuple[int, int]:
    if any(h.get("Rows") in (None, "") or h.get("Columns") in (None, "") for h in headers):
        raise NoPixelDataError("an image has no Rows or Columns: it is not an image")
    sizes = {(int(h.Rows), int(h.Columns)) for h in headers}
    if len(sizes) > 1:
        listed = ", ".join(f"{r}x{c}" for r, c in sorted(sizes))
        raise MatrixSizeMismatchError(
            f"the images have different matrix sizes ({listed}); they cannot form one volume"
        )
    return sizes.pop()


def _check_same_orientation(planes: Sequence[FramePlane]) -> None:
    reference = planes[0].orientation
    worst = max(float(np.max(np.abs(p.orientation - reference))) for p in planes)
    if worst > ORIENTATION_TOLERANCE:
        raise OrientationMismatchError(
            "the images have different orientations (ImageOrientationPatient differs by up to "
            f"{worst:.3f}); they are not slices of one volume"
        )


def _check_same_pixel_spacing(planes: Sequence[FramePlane]) -> None:
    spacings = [p.pixel_spacing for p in planes]
    if any(s is None for s in spacings) and not all(s is None for s in spacings):
        raise PixelSpacingMismatchError("some images record a pixel spacing and others do not")
    if spacings[0] is None:
        return
    reference = np.array(spacings[0])
    worst = max(float(np.max(np.abs(np.array(s) / reference - 1))) for s in spacings)
    if worst > PIXEL_SPACING_TOLERANCE:
        found = sorted({f"{s[0]:g}x{s[1]:g}" for s in spacings if s is not None})
        raise PixelSpacingMismatchError(
            f"the images have different pixel spacings ({', '.join(found)} mm)"
        )


def _check_regular_gaps(distances: np.ndarray, positions: Sequence[np.ndarray]) -> np.ndarray:
    """Return the slice step vector after checking gaps are regular and positions collinear."""
    gaps = np.diff(distances)
    smallest_meaningful = 1e-3
    if np.any(gaps < smallest_meaningful):
        count = int(np.sum(gaps < smallest_meaningful))
        raise DuplicatePositionError(
            f"{count} image(s) share a position with another image; the series probably holds "
            "several phases, echoes or acquisitions: split it before building a volume"
        )
    regular = float(np.median(gaps))
    ratios = gaps / regular
    off = np.abs(ratios - 1) > SLICE_GAP_TOLERANCE
    if np.any(off):
        whole = np.abs(ratios - np.round(ratios)) <= SLICE_GAP_TOLERANCE
        if np.all(whole[off]) and np.all(ratios[off] > 1.5):
            missing = int(np.sum(np.round(ratios[off]) - 1))
            first = int(np.flatnonzero(off)[0])
            raise MissingSlicesError(
                f"{missing} slice(s) missing: the gap after slice {first + 1} of "
                f"{len(distances)} is {gaps[first]:.2f} mm where slices are {regular:.2f} mm "
                "apart; send the complete series"
            )
        raise IrregularSpacingError(
            f"slice gaps vary from {gaps.min():.2f} to {gaps.max():.2f} mm; "
            "a volume needs evenly spaced slices"
        )
    first, last = positions[0], positions[-1]
    step = (last - first) / (len(positions) - 1)
    expected = first + np.outer(np.arange(len(positions)), step)
    drift = float(np.max(np.linalg.norm(np.array(positions) - expected, axis=1)))
    if drift > SLICE_GAP_TOLERANCE * regular + 0.01:
        raise InvalidGeometryError(
            f"the slice positions do not lie on a line (off by up to {drift:.2f} mm)"
        )
    return step


def _single_image_affine(plane: FramePlane) -> np.ndarray:
    spacing = plane.pixel_spacing or (DEFAULT_SPACING_MM, DEFAULT_SPACING_MM)
    if plane.orientation is None:
        return np.diag([spacing[1], spacing[0], plane.slice_thickness or DEFAULT_SPACING_MM, 1.0])
    origin = plane.position if plane.position is not None else np.zeros(3)
    step = plane.normal * (plane.slice_thickness or DEFAULT_SPACING_MM)
    return affine_from_planes(plane.row_cosine, plane.col_cosine, spacing, origin, step)


def _plan_unpositioned_frames(
    header: Dataset,
    planes: Sequence[tuple[FrameRef, FramePlane]],
    rows: int,
    cols: int,
    modality: str | None,
) -> SeriesPlan:
    """A multi-frame image without per-frame positions (cine, NM): frames in stored order."""
    plane = planes[0][1]
    spacing = plane.pixel_spacing or (DEFAULT_SPACING_MM, DEFAULT_SPACING_MM)
    slice_mm = (
        _float_or_none(header.get("SpacingBetweenSlices"))
        or plane.slice_thickness
        or DEFAULT_SPACING_MM
    )
    affine = np.diag([spacing[1], spacing[0], slice_mm, 1.0])
    return SeriesPlan(tuple(ref for ref, _ in planes), affine, rows, cols, modality)


def _float_or_none(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) and number > 0 else None
