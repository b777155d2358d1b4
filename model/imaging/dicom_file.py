"""Reading DICOM Part 10 files with a per-file reason for everything that is not a usable image."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from pathlib import Path
from typing import BinaryIO

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.decoders.base import get_decoder
from pydicom.tag import Tag
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian

from model.imaging.errors import (
    CorruptFileError,
    NoPixelDataError,
    NotDicomError,
    TruncatedFileError,
    UnsupportedTransferSyntaxError,
)
from model.imaging.limits import check_decoded_size, inflate_capped

DicomSource = str | Path | bytes | BinaryIO

PIXEL_DATA_TAGS = (Tag(0x7FE00010), Tag(0x7FE00008), Tag(0x7FE00009))
_UNDEFINED_LENGTH = 0xFFFFFFFF
_PREAMBLE_LENGTH = 128


def is_dicom_part10(head: bytes) -> bool:
    """True when ``head`` (the first 132 bytes or more of a file) has the 'DICM' magic."""
    return head[_PREAMBLE_LENGTH : _PREAMBLE_LENGTH + 4] == b"DICM"


def read_dicom(
    source: DicomSource, *, stop_before_pixels: bool = False, max_decoded_bytes: int | None = None
) -> Dataset:
    """Read a DICOM Part 10 file or raise an :class:`~model.imaging.errors.ImagingError`.

    Detects files that are not DICOM, cannot be parsed, or end before the data they declare.
    With ``stop_before_pixels`` only the header is read (and only header truncation detected).
    With ``max_decoded_bytes`` a deflated data set that inflates past it is refused before
    pydicom inflates it (pydicom inflates the whole stream in memory); the pixel data's own
    size is checked by :func:`check_dicom_size`.
    """
    stream = _open(source)
    try:
        head = stream.read(_PREAMBLE_LENGTH + 4)
        if not is_dicom_part10(head):
            raise NotDicomError(
                "not a DICOM file: the 'DICM' marker of a DICOM Part 10 file is missing"
            )
        stream.seek(0)
        if max_decoded_bytes is not None:
            check_deflated_size(stream, max_decoded_bytes)
            stream.seek(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                dataset = pydicom.dcmread(stream, stop_before_pixels=stop_before_pixels)
                _check_not_truncated(dataset)
                # pydicom converts values lazily; convert the top level now so that a corrupt
                # value is found here, not wherever a caller first touches it.
                for _ in dataset.file_meta:
                    pass
                for _ in dataset:
                    pass
            except InvalidDicomError as exc:
                raise NotDicomError("not a DICOM file: the header cannot be parsed") from exc
            except (EOFError, struct.error) as exc:
                raise TruncatedFileError("the file ends inside the DICOM header") from exc
            except TruncatedFileError:
                raise
            except Exception as exc:  # any parser failure on untrusted bytes is a corrupt file
                raise CorruptFileError("the DICOM header is corrupt and cannot be parsed") from exc
        if any("End of file reached" in str(w.message) for w in caught):
            raise TruncatedFileError("the file ends before the end of its encapsulated data")
    finally:
        if isinstance(source, str | Path):
            stream.close()
    if "TransferSyntaxUID" not in dataset.file_meta:
        raise CorruptFileError("the DICOM file meta information has no transfer syntax")
    return dataset


def check_deflated_size(stream: BinaryIO, cap: int) -> None:
    """Inflate a Deflated Explicit VR Little Endian data set in chunks, discarding the output,
    and refuse it once it passes ``cap``."""
    try:
        pydicom.filereader.read_preamble(stream, False)
        meta = pydicom.filereader._read_file_meta_info(stream)
    except Exception:  # parsed again, with the precise reason, by dcmread
        return
    if str(meta.get("TransferSyntaxUID", "")) != DeflatedExplicitVRLittleEndian:
        return

    class _Discard:
        def write(self, data: bytes) -> None:
            pass

    inflate_capped(stream, _Discard(), cap + 1, wbits=-zlib.MAX_WBITS, cap=cap,
                   what="deflated DICOM data set")


def check_dicom_size(dataset: Dataset, cap: int | None) -> None:
    """Refuse pixel data that would decode to more than ``cap`` bytes: rows x columns x frames
    x samples x max(bits allocated / 8, float32), from the header, before decoding."""
    if cap is None or not any(tag in dataset for tag in PIXEL_DATA_TAGS):
        return
    try:
        rows, cols = int(dataset.get("Rows") or 0), int(dataset.get("Columns") or 0)
        frames = int(dataset.get("NumberOfFrames") or 1)
        samples = int(dataset.get("SamplesPerPixel") or 1)
        bits = int(dataset.get("BitsAllocated") or 8)
    except (TypeError, ValueError) as exc:
        raise CorruptFileError("the image size attributes are not numbers") from exc
    check_decoded_size((frames, rows, cols), max(1, (bits + 7) // 8), cap, samples=samples,
                       what="DICOM image")


def _open(source: DicomSource) -> BinaryIO:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    if isinstance(source, str | Path):
        return open(source, "rb")
    source.seek(0)
    return source


def _check_not_truncated(dataset: Dataset) -> None:
    """Raise when the last element read is shorter than its declared length.

    pydicom stops quietly at the end of the file; a truncated element is always the last one.
    """
    tags = list(dataset.keys())
    if not tags:
        raise TruncatedFileError("the file ends right after the DICOM file meta information")
    last = dataset.get_item(tags[-1])
    if (
        isinstance(last, RawDataElement)
        and last.length != _UNDEFINED_LENGTH
        and last.value is not None
        and len(last.value) < last.length
    ):
        raise TruncatedFileError(
            "the file is truncated: it ends before the end of its last data element"
        )


def require_pixel_data(dataset: Dataset) -> None:
    """Raise unless ``dataset`` has pixel data in a transfer syntax we can decode."""
    if not any(tag in dataset for tag in PIXEL_DATA_TAGS):
        raise NoPixelDataError(
            "the DICOM object has no pixel data (a report, plan or structure set, not an image)"
        )
    for keyword in ("Rows", "Columns", "BitsAllocated", "SamplesPerPixel"):
        if dataset.get(keyword) in (None, ""):
            raise CorruptFileError(f"the image is missing the required attribute {keyword}")
    require_supported_syntax(UID(dataset.file_meta.TransferSyntaxUID))


def require_supported_syntax(transfer_syntax: UID) -> None:
    try:
        decoder = get_decoder(transfer_syntax)
    except NotImplementedError:
        decoder = None
    if decoder is None or not decoder.is_available:
        name = transfer_syntax.name if transfer_syntax.is_valid else "an unknown syntax"
        raise UnsupportedTransferSyntaxError(
            f"the pixel data uses the unsupported transfer syntax {name}; "
            "export the images uncompressed or with JPEG, JPEG-LS, JPEG 2000 or RLE"
        )


def native_pixel_bytes_expected(dataset: Dataset) -> int | None:
    """Bytes of uncompressed pixel data the header declares, or None if encapsulated."""
    if UID(dataset.file_meta.TransferSyntaxUID).is_encapsulated:
        return None
    bits = int(dataset.BitsAllocated)
    count = (
        int(dataset.Rows)
        * int(dataset.Columns)
        * int(dataset.SamplesPerPixel)
        * int(dataset.get("NumberOfFrames") or 1)
    )
    return (count * bits + 7) // 8


def to_part10_bytes(dataset: Dataset) -> bytes:
    """``dataset`` as the bytes of a DICOM Part 10 file (preamble, meta, dataset)."""
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
