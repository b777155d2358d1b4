"""The in-memory image volume handed to the engines and written back as masks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Flips x and y: DICOM and NRRD (as we write it) use LPS, NIfTI uses RAS.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True, eq=False)
class Volume:
    """A scalar image volume in modality units with its position in the patient.

    Attributes
    ----------
    voxels:
        float32 array shaped (slices, rows, cols); Hounsfield units for CT, the rescaled stored
        values for other modalities. MONOCHROME1 images are inverted so that a higher value is
        always displayed brighter. A single 2D image has one slice.
    affine:
        4x4 float64 matrix mapping the index (col, row, slice, 1) to patient coordinates in LPS
        millimetres: ``affine @ [i, j, k, 1]`` is the centre of ``voxels[k, j, i]``.
    modality:
        The DICOM modality (``"CT"``, ``"MR"``...) or None when the source does not say.
    orientation_known:
        False when the source does not establish how the index axes lie in the patient (no
        ImageOrientationPatient, a format without orientation): the affine then only gives
        the voxel size and a best guess, and no viewer may label the patient directions.

    Examples
    --------
    >>> import numpy as np
    >>> v = Volume(np.zeros((2, 3, 4), np.float32), np.diag([0.5, 0.5, 2.0, 1.0]), "CT")
    >>> v.spacing
    (0.5, 0.5, 2.0)
    """

    voxels: np.ndarray
    affine: np.ndarray
    modality: str | None = None
    orientation_known: bool = True

    def __post_init__(self) -> None:
        if self.voxels.dtype != np.float32 or self.voxels.ndim != 3:
            raise ValueError("voxels must be a float32 array shaped (slices, rows, cols)")
        affine = np.asarray(self.affine, dtype=np.float64)
        if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
            raise ValueError("affine must be a finite 4x4 matrix")
        if abs(np.linalg.det(affine[:3, :3])) < 1e-12:
            raise ValueError("affine must be invertible")
        object.__setattr__(self, "affine", affine)

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size (col_mm, row_mm, slice_mm): the lengths of the affine's index axes."""
        col_mm, row_mm, slice_mm = np.linalg.norm(self.affine[:3, :3], axis=0)
        return float(col_mm), float(row_mm), float(slice_mm)

    @property
    def shape(self) -> tuple[int, int, int]:
        slices, rows, cols = self.voxels.shape
        return int(slices), int(rows), int(cols)


def affine_from_planes(
    row_cosine: np.ndarray,
    col_cosine: np.ndarray,
    pixel_spacing: tuple[float, float],
    origin: np.ndarray,
    slice_step: np.ndarray,
) -> np.ndarray:
    """Build the index-to-LPS affine from DICOM plane attributes.

    ``row_cosine`` and ``col_cosine`` are the two halves of ImageOrientationPatient (the direction
    of increasing column index and of increasing row index); ``pixel_spacing`` is PixelSpacing,
    (row_mm, col_mm); ``origin`` the ImagePositionPatient of the first slice; ``slice_step`` the
    vector from one slice's position to the next one's.
    """
    affine = np.eye(4)
    affine[:3, 0] = np.asarray(row_cosine, dtype=np.float64) * pixel_spacing[1]
    affine[:3, 1] = np.asarray(col_cosine, dtype=np.float64) * pixel_spacing[0]
    affine[:3, 2] = slice_step
    affine[:3, 3] = origin
    return affine


def closest_to_lps(volume: Volume) -> Volume:
    """The same volume with index axes reversed where they run against the patient axis they
    lie closest to, so that columns run toward patient left, rows toward posterior and slices
    toward the head as far as mere reversals allow (no resampling, no axis swaps).

    A viewer that shows an image as stored (row 0 at the top, column 0 at the left) then
    shows an axial volume as radiologists expect: anterior at the top, patient right on the
    screen's left. ``orientation_known`` is kept: reversing axes establishes nothing.

    >>> import numpy as np
    >>> v = Volume(np.arange(8, dtype=np.float32).reshape(2, 2, 2), np.diag([1.0, -2.0, 3.0, 1]))
    >>> w = closest_to_lps(v)
    >>> w.affine[:3, :3].diagonal().tolist(), w.affine[:3, 3].tolist()
    ([1.0, 2.0, 3.0], [0.0, -2.0, 0.0])
    >>> bool(w.voxels[0, 0, 0] == v.voxels[0, 1, 0])
    True
    """
    voxels, affine = volume.voxels, volume.affine.copy()
    for axis in range(3):  # 0 columns, 1 rows, 2 slices (numpy axis 2 - axis)
        direction = affine[:3, axis]
        if direction[int(np.argmax(np.abs(direction)))] >= 0:
            continue
        last = voxels.shape[2 - axis] - 1
        affine[:3, 3] = affine[:3, 3] + direction * last
        affine[:3, axis] = -direction
        voxels = np.flip(voxels, axis=2 - axis)
    if voxels is volume.voxels:
        return volume
    return Volume(np.ascontiguousarray(voxels), affine, volume.modality,
                  orientation_known=volume.orientation_known)
