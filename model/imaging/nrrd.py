"""NRRD volumes (.nrrd, .nhdr); written in LPS like DICOM and 3D Slicer."""

from __future__ import annotations

from pathlib import Path

import nrrd
import numpy as np

from model.imaging.errors import CorruptFileError, UnsupportedFormatError
from model.imaging.volume import Volume

# Sign flips from each NRRD space to LPS.
_SPACE_TO_LPS = {
    "left-posterior-superior": np.array([1.0, 1.0, 1.0]),
    "right-anterior-superior": np.array([-1.0, -1.0, 1.0]),
    "left-anterior-superior": np.array([1.0, -1.0, 1.0]),
}


def read_nrrd(path: str | Path) -> Volume:
    """Read a NRRD file; ``voxels[k, j, i] == data[i, j, k]`` (fastest axis is the column)."""
    try:
        data, header = nrrd.read(str(path), index_order="F")
    except (nrrd.NRRDError, ValueError, OSError, EOFError) as exc:
        raise CorruptFileError("not a readable NRRD file: the header or data is invalid") from exc
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim != 3:
        raise UnsupportedFormatError(
            f"the NRRD image has {data.ndim} dimensions; only 2D and 3D scalar images can be "
            "annotated"
        )
    voxels = np.ascontiguousarray(data.astype(np.float32).transpose(2, 1, 0))
    if not np.all(np.isfinite(voxels)):
        raise CorruptFileError("the NRRD image contains NaN or infinite values")
    # Orientation is established only by 'space directions' in a named anatomical 'space'.
    known = header.get("space directions") is not None and "space" in header
    return Volume(voxels, _affine(header, data.shape), None, orientation_known=known)


def _affine(header: dict, shape: tuple[int, ...]) -> np.ndarray:
    affine = np.eye(4)
    directions = header.get("space directions")
    if directions is None:
        spacings = header.get("spacings")
        steps = np.ones(3) if spacings is None else np.asarray(spacings, dtype=float)[:3]
        affine[:3, :3] = np.diag(steps)
        return affine
    space = str(header.get("space", "left-posterior-superior"))
    if space not in _SPACE_TO_LPS:
        raise UnsupportedFormatError(
            f"the NRRD space '{space}' is not anatomical; save it in LPS or RAS"
        )
    vectors = np.asarray(directions, dtype=float)
    if len(shape) == 3 and vectors.shape == (2, 3):
        vectors = np.vstack([vectors, np.cross(vectors[0], vectors[1])])
    if vectors.shape != (3, 3) or not np.all(np.isfinite(vectors)):
        raise CorruptFileError("the NRRD 'space directions' are not three 3D vectors")
    flip = _SPACE_TO_LPS[space]
    affine[:3, :3] = (vectors * flip).T
    origin = header.get("space origin")
    if origin is not None:
        affine[:3, 3] = np.asarray(origin, dtype=float) * flip
    if abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        raise CorruptFileError("the NRRD 'space directions' are degenerate")
    return affine


def write_nrrd_mask(mask: np.ndarray, like: Volume, path: str | Path) -> None:
    """Write a uint8 (slices, rows, cols) mask with the geometry of ``like`` in LPS."""
    header = {
        "type": "uint8",
        "dimension": 3,
        "space": "left-posterior-superior",
        "space directions": like.affine[:3, :3].T,
        "space origin": like.affine[:3, 3],
        "kinds": ["domain", "domain", "domain"],
        "encoding": "gzip",
    }
    nrrd.write(str(path), np.ascontiguousarray(mask.transpose(2, 1, 0)), header, index_order="F")
