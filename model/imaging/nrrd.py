"""NRRD volumes (.nrrd, .nhdr); written in LPS like DICOM and 3D Slicer."""

from __future__ import annotations

import bz2
import io
import zlib
from pathlib import Path

import nrrd
import numpy as np

from model.imaging.errors import (
    CorruptFileError,
    DecodedSizeError,
    TruncatedFileError,
    UnsupportedFormatError,
)
from model.imaging.limits import CHUNK, check_decoded_size, human_bytes, inflate_capped
from model.imaging.volume import Volume

# Sign flips from each NRRD space to LPS.
_SPACE_TO_LPS = {
    "left-posterior-superior": np.array([1.0, 1.0, 1.0]),
    "right-anterior-superior": np.array([-1.0, -1.0, 1.0]),
    "left-anterior-superior": np.array([1.0, -1.0, 1.0]),
}


def read_nrrd(
    path: str | Path, *, max_decoded_bytes: int | None = None, allow_detached: bool = True
) -> Volume:
    """Read a NRRD file; ``voxels[k, j, i] == data[i, j, k]`` (fastest axis is the column).

    With ``max_decoded_bytes`` the header is read first and an image that would decode to more
    is refused before its data is read; gzip and bzip2 data are inflated only as far as the
    header declares. Without ``allow_detached`` a header naming a separate data file (which
    could be any file on this machine) is refused.
    """
    try:
        with open(path, "rb") as stream:
            header = nrrd.read_header(stream)
            detached = header.get("datafile", header.get("data file"))
            if detached is not None and not allow_detached:
                raise UnsupportedFormatError(
                    "NRRD headers that name a separate data file are not accepted; "
                    "send the image as one .nrrd file"
                )
            if max_decoded_bytes is None or detached is not None:
                data = nrrd.read_data(header, stream, str(path), index_order="F")
            else:
                data = _read_capped(header, stream, max_decoded_bytes)
    except (nrrd.NRRDError, ValueError, OSError, EOFError, KeyError, TypeError) as exc:
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


def _read_capped(header: dict, stream, cap: int) -> np.ndarray:
    """``nrrd.read_data`` after checking the declared size, with compressed data inflated in
    chunks and only as far as the header declares (pynrrd inflates the whole stream)."""
    sizes = [int(n) for n in np.atleast_1d(header["sizes"])]
    dtype = nrrd.reader._determine_datatype(header)
    check_decoded_size(sizes, dtype.itemsize, cap, what="NRRD image")
    encoding = str(header.get("encoding", "raw"))
    if encoding not in ("gzip", "gz", "bzip2", "bz2"):
        return nrrd.read_data(header, stream, None, index_order="F")
    line_skip = int(header.get("lineskip", header.get("line skip", 0)))
    byte_skip = int(header.get("byteskip", header.get("byte skip", 0)))
    if line_skip < 0 or byte_skip < -1:
        raise CorruptFileError("the NRRD line skip or byte skip is invalid")
    for _ in range(line_skip):
        stream.readline()
    expected = int(np.prod(sizes, dtype=object)) * dtype.itemsize
    limit = expected + byte_skip if byte_skip >= 0 else cap + 1
    inflated = io.BytesIO()
    if encoding in ("gzip", "gz"):
        inflate_capped(stream, inflated, limit, wbits=zlib.MAX_WBITS | 16, cap=cap,
                       what="NRRD data")
    else:
        _bunzip_capped(stream, inflated, limit, cap)
    raw = inflated.getbuffer()
    raw = raw[byte_skip:] if byte_skip >= 0 else raw[len(raw) - expected:]
    if len(raw) < expected:
        raise TruncatedFileError("the NRRD data is shorter than its header declares")
    plain = {k: v for k, v in header.items()
             if k not in ("lineskip", "line skip", "byteskip", "byte skip")}
    plain["encoding"] = "raw"
    return nrrd.read_data(plain, io.BytesIO(bytes(raw[:expected])), None, index_order="F")


def _bunzip_capped(stream, target, limit: int, cap: int) -> None:
    decompressor = bz2.BZ2Decompressor()
    written = 0
    while written < limit and not decompressor.eof:
        chunk = b"" if decompressor.needs_input is False else stream.read(CHUNK)
        if decompressor.needs_input and not chunk:
            break
        out = decompressor.decompress(chunk, min(CHUNK, limit - written))
        written += len(out)
        target.write(out)
        if written > cap:
            raise DecodedSizeError(f"the NRRD data inflates to more than the limit of "
                                   f"{human_bytes(cap)}")


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
