"""Boxes synthesised from masks the way an entry's interaction template asks for them:
tight around the structure, each edge off by up to the template's tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class BoxTolerance:
    """How far a user's box edge may lie from the tight box (unit mm, px or percent)."""

    value: float = 0.0
    unit: str = "px"

    def __post_init__(self) -> None:
        if self.unit not in ("mm", "px", "percent"):
            raise ValueError(f"unknown tolerance unit {self.unit!r}; use mm, px or percent")
        if self.value < 0:
            raise ValueError("a tolerance must not be negative")

    def in_pixels(self, box: Box, spacing_yx: tuple[float, float]) -> tuple[float, float]:
        """Largest edge shift along x and along y, in pixels."""
        if self.unit == "mm":
            return self.value / spacing_yx[1], self.value / spacing_yx[0]
        if self.unit == "percent":
            return (box[2] - box[0]) * self.value / 100, (box[3] - box[1]) * self.value / 100
        return self.value, self.value


def tight_box(mask: np.ndarray) -> Box:
    """(x0, y0, x1, y1) of the mask's extent in pixel indices."""
    rows = np.flatnonzero(np.asarray(mask).any(axis=1))
    cols = np.flatnonzero(np.asarray(mask).any(axis=0))
    if rows.size == 0:
        raise ValueError("an empty mask has no box")
    return float(cols[0]), float(rows[0]), float(cols[-1]), float(rows[-1])


def jittered_box(
    mask: np.ndarray,
    tolerance: BoxTolerance,
    spacing_yx: tuple[float, float],
    rng: np.random.Generator,
) -> Box:
    """The tight box with each edge moved independently within the tolerance, in the image."""
    box = tight_box(mask)
    dx, dy = tolerance.in_pixels(box, spacing_yx)
    x0, y0, x1, y1 = np.asarray(box) + rng.uniform(-1, 1, 4) * np.array([dx, dy, dx, dy])
    rows, cols = mask.shape
    x0, x1 = sorted((float(np.clip(x0, 0, cols - 1)), float(np.clip(x1, 0, cols - 1))))
    y0, y1 = sorted((float(np.clip(y0, 0, rows - 1)), float(np.clip(y1, 0, rows - 1))))
    return x0, y0, max(x1, min(x0 + 1, cols - 1)), max(y1, min(y0 + 1, rows - 1))
