"""Intensity normalisation and the resize-and-pad mapping to a square model grid.

Intensities: CT is windowed with the caller's (level, width); other modalities,
and CT without a window, are scaled between two percentiles. Both give float32
in [0, 1].

Geometry: the longest side is resized to the model's side (aspect ratio kept),
the short side is padded at the bottom or right. `ResizeGeometry` maps images,
boxes and points into that grid and mask logits back onto the original grid
with the same per-axis scale, so the two directions are exact inverses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

DEFAULT_PERCENTILES = (0.5, 99.5)


class PromptError(ValueError):
    """A prompt that cannot be used on this image (outside it, or empty)."""


def window_to_unit(values: np.ndarray, level: float, width: float) -> np.ndarray:
    """Map [level - width/2, level + width/2] to [0, 1], clipping outside."""
    if width <= 0:
        raise ValueError(f"window width must be positive, got {width}")
    low = level - width / 2.0
    return np.clip((np.asarray(values, np.float32) - low) / np.float32(width), 0, 1)


def percentile_to_unit(
    values: np.ndarray, percentiles: tuple[float, float] = DEFAULT_PERCENTILES
) -> np.ndarray:
    """Map the given lower and upper percentiles of `values` to [0, 1], clipping outside."""
    values = np.asarray(values, np.float32)
    low, high = np.percentile(values, percentiles)
    if high <= low:
        return np.zeros_like(values)
    return np.clip((values - low) / np.float32(high - low), 0, 1)


def normalise_intensity(
    values: np.ndarray, modality: str = "CT", window: tuple[float, float] | None = None
) -> np.ndarray:
    """Modality units to [0, 1]: a CT window when given, else percentiles of `values`."""
    if window is not None and modality.upper() == "CT":
        return window_to_unit(values, *window)
    if window is not None:
        raise ValueError(f"a window (level, width) applies to CT only, not {modality}")
    return percentile_to_unit(values)


def unit_slices(values: np.ndarray, indices: Sequence[int], modality: str = "CT",
                window: tuple[float, float] | None = None) -> dict[int, np.ndarray]:
    """Slices ``indices`` of a (slices, rows, cols) volume normalised exactly as
    ``normalise_intensity`` maps the whole volume, so their embeddings have the same cache keys
    as a job's: a CT window maps voxel by voxel (the slices alone suffice); percentiles are
    taken over the whole volume."""
    if window is not None and modality.upper() == "CT":
        return {i: normalise_intensity(values[i:i + 1], modality, window)[0] for i in indices}
    unit = normalise_intensity(values, modality, window)
    return {i: unit[i] for i in indices}


@dataclass(frozen=True)
class ResizeGeometry:
    """How an image of `original` (rows, cols) sits in a `side` x `side` model grid."""

    original: tuple[int, int]
    resized: tuple[int, int]
    side: int

    @classmethod
    def for_shape(cls, shape: Sequence[int], side: int) -> ResizeGeometry:
        rows, cols = int(shape[0]), int(shape[1])
        if rows < 1 or cols < 1:
            raise ValueError(f"image must not be empty, got shape {tuple(shape)}")
        scale = side / max(rows, cols)
        resized = (max(1, int(rows * scale + 0.5)), max(1, int(cols * scale + 0.5)))
        return cls(original=(rows, cols), resized=resized, side=side)

    @property
    def scale_xy(self) -> np.ndarray:
        """Per-axis scale (x = columns, y = rows) from original pixels to model pixels."""
        return np.array(
            [self.resized[1] / self.original[1], self.resized[0] / self.original[0]], np.float32
        )

    def image_to_model(self, image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
        """A [0, 1] (rows, cols) image as a (1, 3, side, side) tensor, resized and padded."""
        if image.shape != self.original:
            raise ValueError(f"image shape {image.shape} does not match {self.original}")
        tensor = torch.as_tensor(np.ascontiguousarray(image, np.float32), device=device)[None, None]
        if self.resized != self.original:
            tensor = F.interpolate(
                tensor, size=self.resized, mode="bilinear", align_corners=False, antialias=True
            )
        pad_bottom = self.side - self.resized[0]
        pad_right = self.side - self.resized[1]
        tensor = F.pad(tensor, (0, pad_right, 0, pad_bottom))
        return tensor.expand(-1, 3, -1, -1).contiguous()

    def check_box(self, box: Sequence[float]) -> np.ndarray:
        """Validate an (x0, y0, x1, y1) pixel box on the original image."""
        x0, y0, x1, y1 = (float(v) for v in box)
        rows, cols = self.original
        if not (x1 > x0 and y1 > y0):
            raise PromptError(
                f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) is empty: it needs x0 < x1 and y0 < y1"
            )
        if x0 < 0 or y0 < 0 or x1 > cols - 1 or y1 > rows - 1:
            raise PromptError(
                f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) is outside the image: columns run "
                f"0..{cols - 1} and rows 0..{rows - 1}"
            )
        return np.array([x0, y0, x1, y1], np.float32)

    def box_to_model(self, box: Sequence[float]) -> np.ndarray:
        """An (x0, y0, x1, y1) pixel box in model-grid pixels."""
        return self.check_box(box) * np.tile(self.scale_xy, 2)

    def points_to_model(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) pixel points (x, y) in model-grid pixels, after checking they are inside."""
        points = np.asarray(points, np.float32).reshape(-1, 2)
        rows, cols = self.original
        inside = (points >= 0).all(1) & (points[:, 0] <= cols - 1) & (points[:, 1] <= rows - 1)
        if not inside.all():
            raise PromptError(
                f"point {points[~inside][0].tolist()} is outside the image: columns run "
                f"0..{cols - 1} and rows 0..{rows - 1}"
            )
        return points * self.scale_xy

    def logits_to_original(self, logits: torch.Tensor) -> torch.Tensor:
        """(..., side, side) model-grid logits as (..., rows, cols) on the original grid."""
        lead = logits.shape[:-2]
        cropped = logits[..., : self.resized[0], : self.resized[1]].reshape(
            -1, 1, self.resized[0], self.resized[1]
        )
        if self.resized != self.original:
            cropped = F.interpolate(
                cropped, size=self.original, mode="bilinear", align_corners=False
            )
        return cropped.reshape(*lead, *self.original)
