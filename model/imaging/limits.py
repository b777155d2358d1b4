"""Decoded-size caps for untrusted images, checked before anything that size is allocated.

A compressed file (``.nii.gz``, gzip NRRD, deflated or JPEG DICOM) can be a few hundred KiB
and still declare, or inflate to, gigabytes. Readers take the cap as an argument
(``max_decoded_bytes``; ``None`` means no cap) so this package stays free of Django; the web
application passes ``imaging.limits.max_decoded_bytes()``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from typing import BinaryIO

from model.imaging.errors import CorruptFileError, DecodedSizeError, TruncatedFileError

DECODED_ITEM_BYTES = 4
"""Readers hand out float32 voxels: each voxel takes at least four bytes once decoded."""
CHUNK = 1024 * 1024


def human_bytes(count: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"


def decoded_bytes(shape: Sequence[int], bytes_per_voxel: int, samples: int = 1) -> int:
    """Memory the decoded image takes: voxels x samples x max(stored bytes, float32)."""
    return math.prod(int(n) for n in shape) * int(samples) * max(
        int(bytes_per_voxel), DECODED_ITEM_BYTES
    )


def check_decoded_size(
    shape: Sequence[int],
    bytes_per_voxel: int,
    cap: int | None,
    *,
    samples: int = 1,
    what: str = "image",
) -> None:
    """Raise :class:`DecodedSizeError` when the image ``shape`` declares exceeds ``cap`` bytes."""
    if any(int(n) < 0 for n in shape):
        raise CorruptFileError(f"the {what} header declares a negative dimension")
    if cap is None:
        return
    size = decoded_bytes(shape, bytes_per_voxel, samples)
    if size > cap:
        dims = "x".join(str(int(n)) for n in shape)
        per = f"{samples} samples of {bytes_per_voxel} bytes" if samples > 1 else (
            f"{bytes_per_voxel} bytes")
        raise DecodedSizeError(
            f"the {what} declares {dims} voxels of {per}: {human_bytes(size)} once decoded, "
            f"more than the limit of {human_bytes(cap)}"
        )


def inflate_capped(
    source: BinaryIO, target: BinaryIO, limit: int, *, wbits: int, cap: int | None, what: str
) -> int:
    """Decompress ``source`` into ``target`` chunk by chunk, writing at most ``limit`` bytes.

    Stops (without inflating further) once ``limit`` bytes are out: data past what the header
    declares is never decompressed. Refuses a stream that would pass ``cap``. Returns the
    number of bytes written; the caller decides whether fewer than expected is truncation.
    """
    decompressor = zlib.decompressobj(wbits)
    written = 0
    pending = b""
    while written < limit:
        if not pending:
            pending = source.read(CHUNK)
            if not pending:
                break
        try:
            out = decompressor.decompress(pending, min(CHUNK, limit - written))
        except zlib.error as exc:
            raise CorruptFileError(f"the compressed data of the {what} is damaged") from exc
        pending = decompressor.unconsumed_tail
        written += len(out)
        target.write(out)
        if cap is not None and written > cap:
            raise DecodedSizeError(
                f"the {what} inflates to more than the limit of {human_bytes(cap)}"
            )
        if decompressor.eof:
            # gzip allows several members one after another (concatenated files).
            # Anything else after the end of the stream is trailing data, never inflated.
            pending = decompressor.unused_data + pending
            if len(pending) < 2:
                pending += source.read(CHUNK)
            if wbits <= zlib.MAX_WBITS or not pending.startswith(b"\x1f\x8b"):
                break
            decompressor = zlib.decompressobj(wbits)
    return written


def require_length(written: int, expected: int, what: str) -> None:
    if written < expected:
        raise TruncatedFileError(f"the {what} is shorter than its header declares")
