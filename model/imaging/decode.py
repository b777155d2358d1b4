"""Decoding DICOM pixel data to float32 frames in modality units."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, pixel_array

from model.imaging.dicom_file import (
    check_dicom_size,
    native_pixel_bytes_expected,
    require_pixel_data,
)
from model.imaging.errors import CorruptFileError, PixelDecodeError, TruncatedFileError
from model.imaging.geometry import functional_group_value, number_of_frames

# ITU-R BT.601 luma weights: colour images (ultrasound, photographs) become one scalar channel.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def decode_frames(dataset: Dataset, *, max_decoded_bytes: int | None = None) -> np.ndarray:
    """All frames of ``dataset`` as float32 (frames, rows, cols) in modality units.

    Applies the rescale slope and intercept (per frame for enhanced objects) and RT dose grid
    scaling, inverts MONOCHROME1 so higher values are brighter, and reduces colour (RGB, YBR,
    palette) to luminance. With ``max_decoded_bytes`` an image whose header declares more than
    that once decoded is refused before decoding (:func:`check_dicom_size`).
    """
    require_pixel_data(dataset)
    check_dicom_size(dataset, max_decoded_bytes)
    frames = number_of_frames(dataset)
    rows, cols = int(dataset.Rows), int(dataset.Columns)
    expected = native_pixel_bytes_expected(dataset)
    pixel_bytes = dataset.get("PixelData")
    if expected is not None and pixel_bytes is not None and len(pixel_bytes) < expected:
        raise TruncatedFileError("the pixel data is shorter than the image size declares")
    try:
        stored = pixel_array(dataset, as_rgb=True)
    except (ValueError, RuntimeError, AttributeError, KeyError, TypeError) as exc:
        raise PixelDecodeError("the pixel data cannot be decoded; the file may be damaged") from exc
    photometric = str(dataset.get("PhotometricInterpretation", "")).strip()
    if photometric == "PALETTE COLOR":
        try:
            stored = apply_color_lut(stored, dataset)
        except (ValueError, AttributeError, KeyError) as exc:
            raise CorruptFileError("the palette colour lookup table is invalid") from exc
    is_color = stored.ndim == (4 if frames > 1 else 3)
    stored = stored.reshape((frames, rows, cols, 3) if is_color else (frames, rows, cols))
    if is_color:
        return np.ascontiguousarray(stored.astype(np.float32) @ _LUMA)
    values = stored.astype(np.float32)
    if photometric == "MONOCHROME1":
        values = _invert(values, dataset)
    return _rescale(values, dataset)


def _invert(values: np.ndarray, dataset: Dataset) -> np.ndarray:
    """Mirror stored values within their range so MONOCHROME1 displays like MONOCHROME2."""
    bits = int(dataset.get("BitsStored") or dataset.BitsAllocated)
    if int(dataset.get("PixelRepresentation") or 0) == 1:
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        low, high = 0, 2**bits - 1
    return np.float32(low + high) - values


def _rescale(values: np.ndarray, dataset: Dataset) -> np.ndarray:
    slopes, intercepts = rescale_parameters(dataset, values.shape[0])
    scale = float(dataset.get("DoseGridScaling") or 1.0)
    if np.all(slopes == 1.0) and np.all(intercepts == 0.0) and scale == 1.0:
        return values
    values *= (slopes * scale)[:, None, None]
    values += (intercepts * scale)[:, None, None]
    return values


def rescale_parameters(dataset: Dataset, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame (slopes, intercepts) from the functional groups or the classic attributes."""
    per_frame = dataset.get("PerFrameFunctionalGroupsSequence")
    shared = dataset.get("SharedFunctionalGroupsSequence")
    shared_item = shared[0] if shared else Dataset()
    items = list(per_frame) if per_frame else [Dataset()] * frames
    slopes = np.ones(frames, dtype=np.float32)
    intercepts = np.zeros(frames, dtype=np.float32)
    for index, item in enumerate(items[:frames]):
        slope = functional_group_value(
            item, shared_item, "PixelValueTransformationSequence", "RescaleSlope"
        )
        intercept = functional_group_value(
            item, shared_item, "PixelValueTransformationSequence", "RescaleIntercept"
        )
        slope = dataset.get("RescaleSlope") if slope is None else slope
        intercept = dataset.get("RescaleIntercept") if intercept is None else intercept
        try:
            slopes[index] = 1.0 if slope in (None, "") else float(slope)
            intercepts[index] = 0.0 if intercept in (None, "") else float(intercept)
        except (TypeError, ValueError) as exc:
            raise CorruptFileError("RescaleSlope or RescaleIntercept is not a number") from exc
    if not (np.all(np.isfinite(slopes)) and np.all(np.isfinite(intercepts))):
        raise CorruptFileError("RescaleSlope or RescaleIntercept is not finite")
    return slopes, intercepts
